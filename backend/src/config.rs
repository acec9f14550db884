//! Runtime configuration. Every environment variable the code reads is named here
//! (Terraform sets exactly these for the Lambdas; `validate.sh` checks that).
