//! One end-to-end test binary (it links once), against the real PostgreSQL
//! and OpenBao that `deploy/stack.sh up` provides, through the public gRPC API.

mod admission;
mod amqp_identities;
mod aws;
mod canary;
mod cli;
mod configuration;
mod crashes;
mod credential_formats;
mod credentials;
mod dev_mode;
mod events;
mod grpc_web;
mod helpers;
mod lifecycle;
mod listing;
mod minting;
mod operations;
mod permissions;
mod probes;
mod publisher;
mod quotas;
mod run;
mod run_hits;
mod run_providers;
mod sandbox;
mod security;
mod service;
mod setup_kit;
mod setup_kit_clouds;
mod traces;
mod transport;
mod validation;
mod watch;
mod workbench;
