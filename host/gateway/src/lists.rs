//! What each upstream listed last (tools, prompts, resources, templates),
//! kept until it says the list changed (`notifications/*/list_changed`) or
//! its session is replaced, so that a downstream listing is answered
//! without asking every upstream again.
//!
//! A listing that was under way when its list changed is not kept: every
//! slot has a generation, bumped by each change, and an answer is stored
//! only under the generation it was asked in.

use std::sync::{Mutex, MutexGuard};

use codex_mcp_client::client::ListKind;
use rmcp::model::{Prompt, Resource, ResourceTemplate, Tool};

/// One list of one upstream.
pub struct Slot<T> {
    generation: u64,
    items: Option<Vec<T>>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            generation: 0,
            items: None,
        }
    }
}

impl<T: Clone> Slot<T> {
    /// The kept list, or the generation to store a fresh one under.
    pub fn get(&self) -> Result<Vec<T>, u64> {
        match &self.items {
            Some(items) => Ok(items.clone()),
            None => Err(self.generation),
        }
    }

    /// Keeps `items` when the list did not change since `generation`.
    pub fn store(&mut self, generation: u64, items: Vec<T>) {
        if self.generation == generation {
            self.items = Some(items);
        }
    }

    fn forget(&mut self) {
        self.generation += 1;
        self.items = None;
    }
}

/// The lists of one upstream.
#[derive(Default)]
pub struct ListCache {
    pub tools: Mutex<Slot<Tool>>,
    pub prompts: Mutex<Slot<Prompt>>,
    pub resources: Mutex<Slot<Resource>>,
    pub templates: Mutex<Slot<ResourceTemplate>>,
}

pub fn lock<T>(slot: &Mutex<Slot<T>>) -> MutexGuard<'_, Slot<T>> {
    match slot.lock() {
        Ok(slot) => slot,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl ListCache {
    /// The upstream said `list` changed.
    pub fn changed(&self, list: ListKind) {
        match list {
            ListKind::Tools => lock(&self.tools).forget(),
            ListKind::Prompts => lock(&self.prompts).forget(),
            // Templates have no notification of their own.
            ListKind::Resources => {
                lock(&self.resources).forget();
                lock(&self.templates).forget();
            }
        }
    }

    /// A new session: whatever the last one listed may be out of date.
    pub fn forget_all(&self) {
        lock(&self.tools).forget();
        lock(&self.prompts).forget();
        lock(&self.resources).forget();
        lock(&self.templates).forget();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_kept_until_it_changes_and_a_listing_overtaken_by_a_change_is_not() {
        let cache = ListCache::default();
        let generation = lock(&cache.prompts).get().unwrap_err();
        lock(&cache.prompts).store(generation, Vec::new());
        assert_eq!(lock(&cache.prompts).get().map(|items| items.len()), Ok(0));

        cache.changed(ListKind::Prompts);
        let asked_in = lock(&cache.prompts).get().unwrap_err();
        // The list changes again while that listing is under way.
        cache.changed(ListKind::Prompts);
        lock(&cache.prompts).store(asked_in, Vec::new());
        assert!(lock(&cache.prompts).get().is_err());

        // Resources changing drops the templates too, and nothing else.
        let tools = lock(&cache.tools).get().unwrap_err();
        lock(&cache.tools).store(tools, Vec::new());
        let templates = lock(&cache.templates).get().unwrap_err();
        lock(&cache.templates).store(templates, Vec::new());
        cache.changed(ListKind::Resources);
        assert!(lock(&cache.templates).get().is_err());
        assert!(lock(&cache.tools).get().is_ok());
        cache.forget_all();
        assert!(lock(&cache.tools).get().is_err());
    }
}
