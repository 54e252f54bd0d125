//! The commands: serving (where everything is wired together), `doctor`, and the one-shot
//! commands. May import every other module.

pub mod doctor;
pub mod startup;
