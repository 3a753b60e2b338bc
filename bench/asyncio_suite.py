"""The bench suite's workloads under Python's asyncio, for the extra column of `cargo xtask bench`.

Same workloads, sizes and completion signals as bench/benches/suite.rs (see ../shared/BENCH.md),
written the way asyncio code writes them. Prints one JSON object: workload -> median microseconds.
Usage: python3 asyncio_suite.py [--runs N] [--filter NAME]
"""

import asyncio
import json
import statistics
import sys
import time

SPAWN_MANY = 10_000
YIELD_TASKS, YIELDS = 200, 1_000
PING_PONGS = 1_000
CHAIN = 1_000
TIMERS = 100_000
CLIENTS, ROUNDS, MESSAGE = 32, 500, 64


async def spawn_many_local():
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    left = [SPAWN_MANY]

    async def task():
        left[0] -= 1
        if left[0] == 0:
            done.set_result(None)

    tasks = [asyncio.create_task(task()) for _ in range(SPAWN_MANY)]
    await done
    del tasks


async def yield_many():
    async def task():
        for _ in range(YIELDS):
            await asyncio.sleep(0)

    await asyncio.gather(*(task() for _ in range(YIELD_TASKS)))


async def ping_pong():
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    left = [PING_PONGS]
    keep = set()

    async def partner(ping, pong):
        await ping
        pong.set_result(None)

    async def pinger():
        ping, pong = loop.create_future(), loop.create_future()
        t = asyncio.create_task(partner(ping, pong))
        keep.add(t)
        ping.set_result(None)
        await pong
        left[0] -= 1
        if left[0] == 0:
            done.set_result(None)

    for _ in range(PING_PONGS):
        keep.add(asyncio.create_task(pinger()))
    await done


async def chained_spawn():
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    keep = []

    async def link(n):
        if n == 0:
            done.set_result(None)
        else:
            keep.append(asyncio.create_task(link(n - 1)))

    keep.append(asyncio.create_task(link(CHAIN)))
    await done


async def timers():
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    left = [TIMERS]

    async def task(i):
        await asyncio.sleep((1000 + (i * 7919) % 9000) / 1e6)
        left[0] -= 1
        if left[0] == 0:
            done.set_result(None)

    tasks = [asyncio.create_task(task(i)) for i in range(TIMERS)]
    await done
    del tasks


async def tcp_echo():
    async def echo(reader, writer):
        while data := await reader.read(MESSAGE):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def client():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        out = b"\x07" * MESSAGE
        for _ in range(ROUNDS):
            writer.write(out)
            await writer.drain()
            await reader.readexactly(MESSAGE)
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    server.close()
    await server.wait_closed()


# (row, workload). asyncio's one-shot is a bare future, so its `ping_pong` is also the figure
# for `ping_pong_native`, the row where each Rust runtime uses its own one-shot channel.
WORKLOADS = [
    ("spawn_many_local", spawn_many_local),
    ("yield_many", yield_many),
    ("ping_pong", ping_pong),
    ("ping_pong_native", ping_pong),
    ("chained_spawn", chained_spawn),
    ("timers", timers),
    ("tcp_echo", tcp_echo),
]


async def main(runs, name_filter):
    figures = {}
    for name, workload in WORKLOADS:
        if name_filter and name_filter not in name:
            continue
        await workload()  # warm-up
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            await workload()
            times.append((time.perf_counter() - start) * 1e6)
        figures[name] = statistics.median(times)
        print(f"measured {name} (asyncio)", file=sys.stderr)
    return figures


if __name__ == "__main__":
    args = sys.argv[1:]
    runs = int(args[args.index("--runs") + 1]) if "--runs" in args else 5
    name_filter = args[args.index("--filter") + 1] if "--filter" in args else None
    print(json.dumps(asyncio.run(main(runs, name_filter))))
