//! http (to be filled in)
