"""One NAS on every worker: steer datagrams within the SO_REUSEPORT group by Identifier.

Without help the kernel picks a worker's socket by hashing the source and destination
address and port, so a NAS that sends everything from one source port (a VPN
concentrator) keeps one worker busy and leaves the others idle. A classic BPF program
attached to the group (SO_ATTACH_REUSEPORT_CBPF, Linux 4.5+) picks the socket instead:
for UDP the kernel runs it with the data starting at the UDP payload, so byte 1 is the
RADIUS Identifier, and the program returns ``Identifier mod workers`` as the index of
the socket in the group.

Why the Identifier: a NAS numbers its outstanding requests with it, so one NAS's
requests spread evenly, and a retransmission keeps it (RFC 5080 section 2.2.1), so it
reaches the worker whose duplicate cache saw the first copy.

The group holds the workers' sockets in the order they were bound; when one closes (a
worker died) the last takes its place and the respawned worker's socket joins at the
end, so the N indexes always name N distinct sockets. While the group is one short, an
index past its end makes the kernel fall back to its hash. Every worker attaches the
same program (the last attach replaces the group's program with an identical one), so
no worker needs to know whether it was first.
"""

from __future__ import annotations

import ctypes
import logging
import socket
import struct
import sys

log = logging.getLogger("twostep.radius")

# <asm-generic/socket.h>; Python's socket module does not name it.
SO_ATTACH_REUSEPORT_CBPF = 51

# Classic BPF opcodes (<linux/bpf_common.h>).
_LD_B_ABS = 0x00 | 0x10 | 0x20  # BPF_LD | BPF_B | BPF_ABS: A = data[k]
_ALU_MOD_K = 0x04 | 0x90 | 0x00  # BPF_ALU | BPF_MOD | BPF_K: A %= k
_RET_A = 0x06 | 0x10  # BPF_RET | BPF_A: return A
IDENTIFIER_OFFSET = 1  # RADIUS: Code (1 octet), Identifier (1 octet), ...

_refusals: list[str] = []  # what the kernel said, kept so it is logged once per process


def program(workers: int) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions: ``return data[1] % workers``.

    A datagram shorter than two octets ends the program at its load, which returns 0:
    the first socket gets it (and drops it as malformed)."""
    if not 2 <= workers <= 255:
        raise ValueError("steering needs 2 to 255 workers")
    return [
        (_LD_B_ABS, 0, 0, IDENTIFIER_OFFSET),
        (_ALU_MOD_K, 0, 0, workers),
        (_RET_A, 0, 0, 0),
    ]


def attach(sock: socket.socket, workers: int) -> bool:
    """Attach the program to ``sock``'s SO_REUSEPORT group (``sock`` is bound with
    SO_REUSEPORT). False when the kernel refuses: it then goes on hashing, so each NAS
    source port keeps to one worker; that is logged once per process."""
    instructions = program(workers)
    filters = b"".join(struct.pack("=HBBI", *insn) for insn in instructions)
    buffer = ctypes.create_string_buffer(filters, len(filters))
    # struct sock_fprog { unsigned short len; struct sock_filter *filter; }, native layout.
    fprog = struct.pack("@HP", len(instructions), ctypes.addressof(buffer))
    try:
        if not sys.platform.startswith("linux"):
            raise OSError("SO_ATTACH_REUSEPORT_CBPF is Linux only")
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog)
    except OSError as exc:
        _refused(exc)
        return False
    return True


def _refused(exc: OSError) -> None:
    if _refusals:
        return
    _refusals.append(str(exc.strerror or exc))
    log.warning(
        "RADIUS: the kernel refused the worker steering program (%s); each NAS source port "
        "is answered by one worker",
        _refusals[0],
    )
