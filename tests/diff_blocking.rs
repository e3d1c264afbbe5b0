//! The blocking commands compared with `redis-server` where they do not
//! wait (a key has something to take, an argument is wrong, a short timeout
//! runs out), under RESP2 and RESP3, against `--threads 1` and `4`. Waiting
//! itself is tested in `blocking.rs`.

mod util;

use util::diff::{compare_scripts_resp2_and_resp3, keys_on_each_shard, script, x, Script};

const THREADS: &[usize] = &[1, 4];

fn list_pops() -> Script {
    let [a, b, c, d] = keys_on_each_shard("bl:");
    let [a, b, c, d] = [a.as_str(), b.as_str(), c.as_str(), d.as_str()];
    script(
        "BLPOP BRPOP BLMPOP",
        vec![
            x(&["RPUSH", b, "1", "2", "3"]),
            x(&["BLPOP", a, b, c, "0"]),
            x(&["BRPOP", a, b, c, "0"]),
            x(&["BLPOP", b, "0.5"]),
            x(&["EXISTS", b]),
            x(&["BLPOP", a, "0.01"]),
            x(&["BRPOP", a, d, "0.01"]),
            x(&["SET", c, "string"]),
            x(&["RPUSH", d, "x"]),
            x(&["BLPOP", a, c, d, "0"]),
            x(&["BLPOP", a, d, c, "0"]),
            x(&["BLPOP", a, "-1"]),
            x(&["BLPOP", a, "abc"]),
            x(&["BLPOP", a, "1e400"]),
            x(&["BLPOP", a]),
            x(&["RPUSH", a, "p", "q", "r"]),
            x(&["BLMPOP", "0", "2", c, a, "LEFT"]),
            x(&["BLMPOP", "0", "2", b, a, "RIGHT", "COUNT", "5"]),
            x(&["BLMPOP", "0.01", "1", a, "LEFT"]),
            x(&["BLMPOP", "0", "0", a, "LEFT"]),
            x(&["BLMPOP", "0", "1", a, "UP"]),
            x(&["BLMPOP", "0", "1", a, "LEFT", "COUNT", "0"]),
            x(&["BLMPOP", "-1", "1", a, "LEFT"]),
            x(&["BLMPOP", "0", "5", a, "LEFT"]),
            x(&["BLMPOP", "0", "1"]),
        ],
    )
}

fn list_moves() -> Script {
    let [a, b, c, _] = keys_on_each_shard("bm:");
    let [a, b, c] = [a.as_str(), b.as_str(), c.as_str()];
    script(
        "BLMOVE BRPOPLPUSH",
        vec![
            x(&["RPUSH", a, "1", "2", "3"]),
            x(&["BLMOVE", a, b, "LEFT", "RIGHT", "0"]),
            x(&["BLMOVE", a, b, "RIGHT", "LEFT", "0"]),
            x(&["BRPOPLPUSH", a, a, "0"]),
            x(&["LRANGE", a, "0", "-1"]),
            x(&["LRANGE", b, "0", "-1"]),
            x(&["BLMOVE", c, b, "LEFT", "LEFT", "0.01"]),
            x(&["BRPOPLPUSH", c, b, "0.01"]),
            x(&["SET", c, "string"]),
            x(&["BLMOVE", a, c, "LEFT", "LEFT", "0"]),
            x(&["BLMOVE", c, a, "LEFT", "LEFT", "0"]),
            x(&["BLMOVE", a, b, "UP", "LEFT", "0"]),
            x(&["BLMOVE", a, b, "LEFT", "LEFT", "-2"]),
            x(&["BRPOPLPUSH", a, b, "x"]),
            x(&["LRANGE", a, "0", "-1"]),
        ],
    )
}

fn zset_pops() -> Script {
    let [a, b, c, d] = keys_on_each_shard("bz:");
    let [a, b, c, d] = [a.as_str(), b.as_str(), c.as_str(), d.as_str()];
    script(
        "BZPOPMIN BZPOPMAX BZMPOP",
        vec![
            x(&[
                "ZADD", b, "1.5", "one", "2", "two", "3", "three", "-inf", "low",
            ]),
            x(&["BZPOPMIN", a, b, "0"]),
            x(&["BZPOPMAX", a, b, c, "0"]),
            x(&["BZPOPMIN", a, "0.01"]),
            x(&["BZMPOP", "0", "2", a, b, "MIN"]),
            x(&["BZMPOP", "0", "2", a, b, "MAX", "COUNT", "10"]),
            x(&["EXISTS", b]),
            x(&["BZMPOP", "0.01", "1", b, "MIN"]),
            x(&["SET", c, "string"]),
            x(&["ZADD", d, "1", "m"]),
            x(&["BZPOPMIN", a, c, d, "0"]),
            x(&["BZPOPMIN", a, d, "0"]),
            x(&["BZPOPMIN", a, "-1"]),
            x(&["BZPOPMAX", a, "nan"]),
            x(&["BZMPOP", "0", "0", a, "MIN"]),
            x(&["BZMPOP", "0", "1", a, "LOW"]),
            x(&["BZMPOP", "0", "1", a, "MIN", "COUNT", "-1"]),
            x(&["BZMPOP", "x", "1", a, "MIN"]),
            x(&["BZPOPMIN", a]),
        ],
    )
}

#[test]
fn blocking_commands_that_need_not_wait_match_redis() {
    compare_scripts_resp2_and_resp3(&[list_pops(), list_moves(), zset_pops()], THREADS);
}
