//! A small least-recently-used cache. An engine keeps the models and graph sessions of its recent runs so a
//! host's next run starts at once; without a bound, a host that walks through model seeds or files would keep
//! every one (about 200 MB each) until memory ran out.

/// At most `capacity` entries; using or inserting an entry makes it the most recent, and inserting into a full
/// cache drops the least recent.
pub(crate) struct Lru<K, V> {
    capacity: usize,
    /// Least recent first.
    entries: Vec<(K, V)>,
}

impl<K: PartialEq, V> Lru<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Lru { capacity: capacity.max(1), entries: Vec::new() }
    }

    /// The entry for `key`, now the most recent.
    pub(crate) fn get(&mut self, key: &K) -> Option<&mut V> {
        let position = self.entries.iter().position(|(k, _)| k == key)?;
        let entry = self.entries.remove(position);
        self.entries.push(entry);
        self.entries.last_mut().map(|(_, v)| v)
    }

    /// Stores `value` as the most recent, dropping the least recent entry when full.
    pub(crate) fn insert(&mut self, key: K, value: V) -> &mut V {
        self.entries.retain(|(k, _)| *k != key);
        if self.entries.len() >= self.capacity {
            self.entries.remove(0);
        }
        self.entries.push((key, value));
        &mut self.entries.last_mut().expect("just pushed").1
    }

    /// Keeps only the entries `keep` accepts.
    pub(crate) fn retain(&mut self, keep: impl Fn(&K) -> bool) {
        self.entries.retain(|(k, _)| keep(k));
    }

    /// The entries, least recent first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Drops every entry.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let mut cache = Lru::new(2);
        cache.insert(1, "one");
        cache.insert(2, "two");
        assert_eq!(cache.get(&1).copied(), Some("one"));
        cache.insert(3, "three");
        assert!(cache.get(&2).is_none(), "2 was the least recent");
        assert_eq!(cache.get(&1).copied(), Some("one"));
        assert_eq!(cache.get(&3).copied(), Some("three"));
        assert_eq!(cache.len(), 2);
        cache.insert(3, "again");
        assert_eq!((cache.len(), cache.get(&3).copied()), (2, Some("again")));
        cache.clear();
        assert_eq!(cache.len(), 0);
    }
}
