//! `hostile-trap-action`: `trap.task_or_trap` creates a task "Call <name>" for each
//! contact, and executes the `unreachable` instruction when a contact of the batch has
//! "trap" in its name: the whole call fails, so the host must find the contacts that
//! fail without failing the others or the job.

use kartoteka_plugin_sdk::prelude::*;

fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    std::process::abort();
}

/// No parameters.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct NoParams {}

/// `task_or_trap`.
#[derive(Default)]
pub struct TaskOrTrap;

impl Action for TaskOrTrap {
    const NAME: &'static str = "task_or_trap";
    const LABEL: &'static str = "A task, or a trap";
    const CAPABILITIES: &'static [Capability] = &[Capability::CreateTask];
    type Params = Option<NoParams>;

    fn run(&mut self, _: &Option<NoParams>, contacts: &[Contact]) -> Result<Vec<Effect>, PluginError> {
        if contacts.iter().any(|c| c.name.contains("trap")) {
            trap();
        }
        Ok(contacts
            .iter()
            .map(|c| {
                let task = CreateTask {
                    title: format!("Call {}", c.name),
                    body: String::new(),
                    assignee: None,
                    due: None,
                };
                Effect::create_task(c, task)
            })
            .collect())
    }
}

/// The plugin.
pub struct Trap;

plugin!(Trap {
    name: "trap",
    description: "Creates tasks, and traps on contacts named trap.",
    actions: [TaskOrTrap],
});
