//! Hash slots: which shard owns a key. The scheme Redis Cluster uses
//! (CRC16-XMODEM of the key or its `{hashtag}`, mod 16384), so the same
//! mapping serves one node or many.

/// The number of hash slots, as in Redis Cluster.
pub const SLOTS: u16 = 16384;

const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);

/// The part of `key` that is hashed: the text between the first `{` and the
/// next `}` when that is not empty, else the whole key.
fn hash_part(key: &[u8]) -> &[u8] {
    if let Some(open) = memchr::memchr(b'{', key) {
        if let Some(close) = memchr::memchr(b'}', &key[open + 1..]) {
            if close > 0 {
                return &key[open + 1..open + 1 + close];
            }
        }
    }
    key
}

/// The hash slot of `key`.
pub fn key_slot(key: &[u8]) -> u16 {
    CRC16.checksum(hash_part(key)) % SLOTS
}

/// The shard that owns `slot` when there are `shards` of them: contiguous
/// slot ranges, so a shard's slots form one range.
pub fn slot_shard(slot: u16, shards: usize) -> usize {
    debug_assert!(shards > 0);
    usize::from(slot) * shards / usize::from(SLOTS)
}

/// The shard that owns `key`.
pub fn key_shard(key: &[u8], shards: usize) -> usize {
    if shards == 1 {
        return 0;
    }
    slot_shard(key_slot(key), shards)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis_cluster() {
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
    }

    #[test]
    fn shards_split_slots_into_ranges() {
        assert_eq!(slot_shard(0, 4), 0);
        assert_eq!(slot_shard(16383, 4), 3);
        assert_eq!(slot_shard(4096, 4), 1);
        assert_eq!(key_shard(b"anything", 1), 0);
    }
}
