//! Engine services: `scanpro engine NAME` runs one engine (LibreOffice, Ghostscript or OCR) as a
//! stateless HTTP service, and workers hand it the steps of that engine's tools, so engines scale
//! apart from workers. Both halves of the protocol live here, tested against each other.
//!
//! # Layout
//! - [`wire`]: the protocol: the route, the [`ServiceEvent`] lines of an answer and the output
//!   bytes after them; [`EventReader`] reads an answer back.
//! - [`server`]: [`EngineService`] and its [`router`]: admission (`429` when the queue is full,
//!   before a byte is read), the token check, the step run beside the engine, health and metrics.
//! - [`client`]: [`EngineClient`], a worker's side: sends a step, follows its progress, writes
//!   its outputs, and turns every failure into a [`ToolError`](scanpro_core::ToolError).

pub mod client;
pub mod server;
pub mod wire;

pub use client::EngineClient;
pub use server::{EngineService, ServiceSettings, metrics_router, router};
pub use wire::{EventReader, ServiceEvent};
