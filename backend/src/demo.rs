//! demo (to be filled in)
