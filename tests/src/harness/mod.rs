pub mod amqp;
pub mod app;
pub mod auth;
pub mod chaos_proxy;
pub mod env;
pub mod fixtures;
pub mod logs;
pub mod scripted_probe;
