//! Workflows: what the command line runs on top of the library. Many analyses of one long CSV
//! ([`batch`]), the batch report ([`report`], configured by a [`manifest`]), and atomic file
//! writing ([`atomic`]). Workflows fit through the analyses and draw through the renderers; they
//! never draw themselves.

pub mod atomic;
pub mod batch;
pub mod manifest;
pub mod report;
