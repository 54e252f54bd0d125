//! The commands: [`commands`] (what each command of `main` does), [`startup`] (serving, where
//! everything is wired together), [`doctor`]'s checks. May import every other module.

pub mod commands;
pub mod doctor;
pub mod startup;
