//! ingest (to be filled in)
