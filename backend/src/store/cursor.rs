//! cursors (to be filled in)
