//! The client side of requests: how Redis clients encode commands.

/// Appends `args` as a RESP array of bulk strings, as every client library sends.
pub fn encode_request(args: &[&[u8]], out: &mut Vec<u8>) {
    let mut digits = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(digits.format(args.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for arg in args {
        out.push(b'$');
        out.extend_from_slice(digits.format(arg.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends `args` as one inline request line, every argument in double
/// quotes with anything unprintable, `"` and `\` escaped, so any bytes survive
/// Redis's inline splitting. `args` must not be empty: an empty line is no command.
pub fn encode_inline_request(args: &[&[u8]], out: &mut Vec<u8>) {
    assert!(!args.is_empty(), "an inline request needs a command name");
    for (index, arg) in args.iter().enumerate() {
        if index > 0 {
            out.push(b' ');
        }
        out.push(b'"');
        for &byte in arg.iter() {
            match byte {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                0x20..=0x7e => out.push(byte),
                _ => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(&[
                        b'\\',
                        b'x',
                        HEX[usize::from(byte >> 4)],
                        HEX[usize::from(byte & 15)],
                    ]);
                }
            }
        }
        out.push(b'"');
    }
    out.extend_from_slice(b"\r\n");
}
