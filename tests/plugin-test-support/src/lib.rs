//! Test doubles shared by the plugin test suites: a host that records its log
//! and answers like a host with no credential store, browser or terminal, and
//! a message sink that forwards into a channel.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use codex_plugin_api::abi_stable::sabi_trait::TD_Opaque;
use codex_plugin_api::abi_stable::std_types::{ROption, RResult, RStr, RString};
use codex_plugin_api::{
    HostServices, HostServicesBox, HostServicesFfi, LogLevel, MessageSink, MessageSinkBox,
    MessageSinkFfi, PluginError,
};

/// What a [`channel_sink`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A delivered message.
    Message(String),
    /// The connection ended.
    Closed(PluginError),
}

struct ChannelSink(Mutex<Sender<Event>>);

impl MessageSinkFfi for ChannelSink {
    fn deliver(&self, message: RString) {
        if let Ok(sender) = self.0.lock() {
            let _ = sender.send(Event::Message(message.into_string()));
        }
    }

    fn closed(&self, reason: PluginError) {
        if let Ok(sender) = self.0.lock() {
            let _ = sender.send(Event::Closed(reason));
        }
    }
}

/// A sink for `connect`, and the receiving end of what it is given.
pub fn channel_sink() -> (MessageSink, Receiver<Event>) {
    let (sender, events) = channel();
    let sink = MessageSink::new(MessageSinkBox::from_value(
        ChannelSink(Mutex::new(sender)),
        TD_Opaque,
    ));
    (sink, events)
}

/// The log lines a [`RecordingHost`] received.
pub type Logs = Arc<Mutex<Vec<(LogLevel, String)>>>;

/// A host whose `CODEX_HOME` is a directory of the test's choosing and which
/// records log lines.
#[derive(Clone)]
pub struct RecordingHost {
    /// What `codex_home()` answers.
    pub codex_home: PathBuf,
    /// Every log line, in order.
    pub logs: Logs,
}

impl RecordingHost {
    /// A host for `codex_home`, recording into `logs`.
    pub fn new(codex_home: impl Into<PathBuf>, logs: Logs) -> Self {
        RecordingHost {
            codex_home: codex_home.into(),
            logs,
        }
    }

    /// The services object a plugin gets.
    pub fn services(&self) -> HostServices {
        HostServices::new(HostServicesBox::from_value(self.clone(), TD_Opaque))
    }
}

impl HostServicesFfi for RecordingHost {
    fn log(&self, level: LogLevel, message: RStr<'_>) {
        if let Ok(mut logs) = self.logs.lock() {
            logs.push((level, message.to_string()));
        }
    }
    fn feature_enabled(&self, _key: RStr<'_>) -> ROption<bool> {
        ROption::RNone
    }
    fn codex_home(&self) -> RString {
        self.codex_home.to_string_lossy().into_owned().into()
    }
    fn credential_load(
        &self,
        _service: RStr<'_>,
        _account: RStr<'_>,
    ) -> RResult<ROption<RString>, PluginError> {
        RResult::ROk(ROption::RNone)
    }
    fn credential_store(
        &self,
        _service: RStr<'_>,
        _account: RStr<'_>,
        _secret: RStr<'_>,
    ) -> RResult<(), PluginError> {
        RResult::RErr(PluginError::internal("no credential store in tests"))
    }
    fn credential_delete(
        &self,
        _service: RStr<'_>,
        _account: RStr<'_>,
    ) -> RResult<bool, PluginError> {
        RResult::ROk(false)
    }
    fn notify_user(&self, _message: RStr<'_>) {}
    fn open_url(&self, _url: RStr<'_>) -> RResult<(), PluginError> {
        RResult::RErr(PluginError::internal("no browser in tests"))
    }
    fn read_line(&self, _prompt: RStr<'_>) -> RResult<RString, PluginError> {
        RResult::RErr(PluginError::internal("no terminal in tests"))
    }
}
