//! Integration tests: the real app on a random port, a fresh database per test, a real SMTP
//! conversation with a sink on loopback. One binary, so the suite links once.
mod helpers;
mod smtp;

mod accounts;
mod api_contract;
mod bad_input;
mod browser;
mod checklists;
mod dashboards;
mod delivery;
mod demo;
mod jobs;
mod journey_api;
mod journey_pages;
mod lifecycle;
mod mail;
mod members;
mod navigation;
mod operations;
mod passport;
mod pulse;
mod readme_session;
mod recognition;
mod review_flow;
mod security;
mod service;
mod shipping;
mod snapshot;
mod tenant_isolation;
