"""asyncio.py: a coroutine per connection on the asyncio event loop. The acceptor coroutine takes
the queued connections (awaits loop.sock_accept when there are none) and starts a task per
connection; the task runs the blocking loop's logic with awaits where it would block
(sock_recv_into, sock_sendall, asyncio.sleep for --wait-us), so the loop runs another connection
meanwhile. Every coroutine shares one thread: --work-us stalls them all. --idle-timeout is an
asyncio.timeout around each read and write. On stop the acceptor is cancelled, then the connections'
tasks, which are awaited for at most 0.8 s. --loop uvloop runs the same code on uvloop's event loop
(libuv; Debian's python3-uvloop), the loop a Python user swaps in for speed."""

import asyncio
import errno
import os
import signal
import socket

import cmbpy

TASKS = set()


async def serve(srv, sock, st, c):
    loop = asyncio.get_running_loop()
    idle = srv.opt.idle_timeout or None
    stall_since = None
    added = 0
    while True:
        r = c.step(added, st, block=False)
        added = 0
        if c.wait:
            await asyncio.sleep(c.wait)
        out = c.output()
        if out is not None:
            async with asyncio.timeout(idle):
                await loop.sock_sendall(sock, out)
            st.bytes_out += len(out)
        if r == cmbpy.CLOSE:
            return
        if r == cmbpy.NEED_ROOM:
            continue
        if c.progress:
            stall_since = None
        elif c.pending_input() and idle:
            # a client trickling a header byte now and then gets --idle-timeout to finish it
            now = loop.time()
            if stall_since is None:
                stall_since = now
            elif now - stall_since > idle:
                raise TimeoutError
        async with asyncio.timeout(idle):
            n = await loop.sock_recv_into(sock, c.room())
        if n == 0:
            return   # the peer is done (or half-closed): everything it sent is answered
        st.bytes_in += n
        added = n


async def connection(srv, sock):
    st = cmbpy.Stats()
    c = None
    try:
        c = cmbpy.Conn(srv)
        await serve(srv, sock, st, c)
    except TimeoutError:
        st.timeouts += 1
    except (OSError, MemoryError):
        cmbpy.count_error(st)
    except asyncio.CancelledError:
        pass   # the stop
    except Exception as e:  # noqa: BLE001 -- a connection never takes the server down
        st.errors += 1
        cmbpy.RateLimit().log("connection: %r" % e)
    finally:
        if c:
            c.free()
        sock.close()
        st.closed += 1
        st.flush()
        cmbpy.conn_release()


async def readable(loop, sock):
    """Until sock is readable."""
    ready = loop.create_future()
    loop.add_reader(sock.fileno(), lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_reader(sock.fileno())


ACCEPT_BURST = 64   # connections taken from the queue in a row before the loop runs once


async def next_connection(loop, listener, burst):
    """A connection from listener's queue at once while it holds some, up to ACCEPT_BURST in a row
    (burst[0] counts them; then the loop runs its other callbacks once), else when one comes.
    uvloop's sock_accept waits for the loop's next iteration even with connections queued, so it
    took one per iteration: under load an iteration answers every ready connection first, and of a
    burst of 1,000 connects about 250 were still queued seconds later, their requests unanswered.
    asyncio's own sock_accept tries accept() first, which this does for both loops."""
    if burst[0] >= ACCEPT_BURST:
        burst[0] = 0
        await asyncio.sleep(0)
    try:
        conn = listener.accept()
        burst[0] += 1
        return conn
    except BlockingIOError:
        burst[0] = 0
        return await loop.sock_accept(listener)


async def acceptor(srv, st):
    """Accept until cancelled (the stop), a task per connection."""
    loop = asyncio.get_running_loop()
    spare, backoff, rl = cmbpy.Spare(), cmbpy.Backoff(), cmbpy.RateLimit()
    burst = [0]
    while True:
        try:
            sock, _ = await next_connection(loop, srv.listener, burst)
        except OSError as e:
            if e.errno in cmbpy.TRANSIENT:
                continue
            rl.log("accept: %s" % os.strerror(e.errno or 0))
            verdict = "rest"
            if e.errno in (errno.EMFILE, errno.ENFILE):
                verdict = spare.refuse(srv.listener, st)
            if verdict == "empty":
                # sock_accept tries accept() before it waits, and Linux says EMFILE before it looks
                # at the queue: wait for a client first, or this loop spins.
                await readable(loop, srv.listener)
            elif verdict == "rest":
                await asyncio.sleep(backoff.delay())   # out of fds and no spare: rest, never spin
            continue
        backoff.reset()
        sock.setblocking(False)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass   # a connection already reset: its first read or write says so
        if not cmbpy.conn_admit(srv, st):
            sock.close()
            continue
        try:
            task = asyncio.ensure_future(connection(srv, sock))
        except MemoryError:
            st.spawn_failures += 1
            sock.close()
            cmbpy.conn_release()
            continue
        TASKS.add(task)
        task.add_done_callback(TASKS.discard)


async def main_task(srv):
    loop = asyncio.get_running_loop()
    st = cmbpy.Stats()
    accepting = asyncio.ensure_future(acceptor(srv, st))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: (cmbpy.request_stop(), accepting.cancel()))
    cmbpy.ready(srv)
    try:
        await accepting
    except asyncio.CancelledError:
        pass
    st.flush()
    for task in list(TASKS):
        task.cancel()
    if TASKS:
        await asyncio.wait(list(TASKS), timeout=0.8)
    return 0


def run(srv):
    factory = None
    if srv.opt.loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            cmbpy.log("--loop uvloop: the uvloop module is not installed (Debian: python3-uvloop)")
            return 2
        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main_task(srv))


MODEL = cmbpy.Model(
    "py-asyncio", "Asyncio (Python): a coroutine per connection on the asyncio event loop.",
    cmbpy.F_SPAWNS, run, keepalive=cmbpy.KA_NGINX,
    choices={"loop": ("asyncio", ("asyncio", "uvloop"), "the event loop")})

if __name__ == "__main__":
    cmbpy.main(MODEL)
