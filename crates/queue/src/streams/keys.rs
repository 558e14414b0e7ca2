//! The name of every key the queue uses, under its prefix (see the module's `# Keys`).

use super::RedisQueue;

/// Key names under one prefix.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    prefix: String,
}

impl Keys {
    pub(super) fn new(prefix: String) -> Self {
        Self { prefix }
    }

    /// `{prefix}:jobs:{class}`: the stream of a class.
    pub(super) fn stream(&self, class: &str) -> String {
        format!("{}:jobs:{class}", self.prefix)
    }

    /// `{prefix}:dead:{class}`: the dead letters of a class.
    pub(super) fn dead(&self, class: &str) -> String {
        format!("{}:dead:{class}", self.prefix)
    }

    /// `{prefix}:index:{class}`: job id → message id of the jobs of a class that have a message.
    pub(super) fn index(&self, class: &str) -> String {
        format!("{}:index:{class}", self.prefix)
    }

    /// `{prefix}:classes`: the classes seen.
    pub(super) fn classes(&self) -> String {
        format!("{}:classes", self.prefix)
    }

    /// `{prefix}:reconciler`: the lock of the process that reconciles.
    pub(super) fn reconciler(&self) -> String {
        format!("{}:reconciler", self.prefix)
    }
}

impl RedisQueue {
    pub fn stream_key(&self, class: &str) -> String {
        self.keys.stream(class)
    }

    pub fn dead_key(&self, class: &str) -> String {
        self.keys.dead(class)
    }

    pub(super) fn index_key(&self, class: &str) -> String {
        self.keys.index(class)
    }

    pub(super) fn classes_key(&self) -> String {
        self.keys.classes()
    }
}

#[cfg(test)]
mod tests {
    use super::Keys;

    #[test]
    fn every_key_is_under_the_prefix() {
        let keys = Keys::new("scanpro".into());
        assert_eq!(keys.stream("ocr"), "scanpro:jobs:ocr");
        assert_eq!(keys.dead("ocr"), "scanpro:dead:ocr");
        assert_eq!(keys.index("ocr"), "scanpro:index:ocr");
        assert_eq!(keys.classes(), "scanpro:classes");
        assert_eq!(keys.reconciler(), "scanpro:reconciler");
    }
}
