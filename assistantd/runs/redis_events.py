"""Run events shared by every server process through Redis streams (``ASSISTANTD_REDIS_URL``).

Each run has a stream of its events and a counter. Publishing is one Lua script, atomic in
Redis: take the next number from the counter and append the event under that number as its
stream id (``<seq>-0``), so processes that publish for one run (the API process its
``created``/``cancelling``, the worker everything else, a worker that took the run over after
a crash the rest) continue one numbering, and a stream id is an event's ``id:``.

``publish`` never blocks: events wait in an outbox that one task sends, in order, pipelined.
``flush`` waits until what was published has been sent; the engine flushes before handing a
run to a worker, which may be another process.

Subscribers read from a local ``Channel`` per run, as with the in-process bus. One reader task
follows, with a single blocking ``XREAD``, the streams of the runs this process has
subscribers for, and appends what arrives to their channels; a new subscription wakes it by
adding to this process's wake-up stream, which the ``XREAD`` always includes. A run's keys
expire ``retain_seconds`` after its terminal event (and a day after its last event otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError

from assistantd.runs.events import (
    CLOSING_EVENTS,
    RETAIN_SECONDS,
    TERMINAL_EVENTS,
    Channel,
    Held,
    RunEvent,
    Subscription,
    end_all,
    iterate,
    same_for_every_include,
    subscription,
)
from assistantd.wire import sse

log = logging.getLogger(__name__)

# KEYS: counter, stream. ARGV: event name, payload JSON, whether the frame is the same for
# every subscriber ("1"/"0"), seconds to keep the keys. Returns the event's number.
_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], seq .. '-0', 'e', ARGV[1], 'd', ARGV[2], 's', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return seq
"""
# An unfinished run's events are kept this long after its newest one.
IDLE_RETAIN_SECONDS = 24 * 3600
# Entries one XREAD returns per stream at most (a long history arrives over several reads).
READ_COUNT = 1000
# The blocking read wakes up this often even with nothing to read (ms), to notice a lost wake.
BLOCK_MS = 5000
READ_TIMEOUT_MARGIN = 10.0  # seconds a blocking read's reply may take beyond BLOCK_MS
# A run whose first event this process published is held here this long for a subscriber
# (the create request's own stream opens right after it): that subscriber then reads nothing
# back from Redis.
UNREAD_KEEP_SECONDS = 10.0
SEND_RETRY_SECONDS = 0.5


def _keys(run_id: str) -> tuple[str, str]:
    # The braces make both keys of a run hash to one slot (Redis Cluster runs scripts per slot).
    return f"assistantd:run:{{{run_id}}}:seq", f"assistantd:run:{{{run_id}}}:events"


@dataclass(slots=True)
class _Outgoing:
    run_id: str
    event: str
    data: dict[str, Any]
    payload: bytes
    same_for_all: bool

    def held(self, seq: int) -> Held:
        if self.same_for_all:
            return b"".join(
                (f"id: {seq}\nevent: {self.event}\ndata: ".encode(), self.payload, b"\n\n")
            )
        return RunEvent(seq, self.event, self.data)


class RedisRunEvents:
    def __init__(self, url: str, retain_seconds: float = RETAIN_SECONDS) -> None:
        self._redis = redis.from_url(url)
        # Blocking reads hold their connection: one of its own, so commands never wait on it.
        # No retries inside redis-py: it would repeat a blocking read cut short by a cancel
        # (which it reports as a timeout); the read loop retries itself.
        # Its socket timeout outlasts a blocking read: redis-py's default (5 s since 8.x) cut
        # each idle read short as a failure, logged and followed by a retry pause.
        self._reader_redis = redis.from_url(
            url, retry=Retry(NoBackoff(), 0), socket_timeout=BLOCK_MS / 1000 + READ_TIMEOUT_MARGIN
        )
        self._retain_seconds = int(max(retain_seconds, 1))
        self._publish = self._redis.register_script(_PUBLISH)
        self._outbox: list[_Outgoing] = []
        self._queued = 0  # events ever put in the outbox
        self._sent = 0  # of those, how many Redis has
        self._progress = asyncio.Condition()
        self._outbox_ready = asyncio.Event()
        self._channels: dict[str, Channel] = {}
        self._positions: dict[str, str] = {}  # stream id read up to, per followed run
        self._wake_key = f"assistantd:wake:{uuid.uuid4().hex}"
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    async def ping(self) -> None:
        """Raises unless Redis answers (``/ready``)."""
        await self._redis.ping()

    async def start(self) -> None:
        await self._redis.script_load(_PUBLISH)  # also: Redis answers
        self._tasks = [
            asyncio.create_task(self._send_forever(), name="run-events-sender"),
            asyncio.create_task(self._read_forever(), name="run-events-reader"),
        ]

    def end_streams(self) -> None:
        end_all(self._channels)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), timeout=5)
        self._closing = True
        with contextlib.suppress(Exception):
            await self._redis.xadd(self._wake_key, {"w": "1"}, maxlen=10)  # ends the read
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._tasks[-1]), timeout=1)  # the reader
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._redis.delete(self._wake_key)
        await self._redis.aclose()
        await self._reader_redis.aclose()

    # --- publishing -------------------------------------------------------------------------

    def publish(self, run_id: str, event: str, data: dict[str, Any]) -> None:
        same = event not in CLOSING_EVENTS and same_for_every_include(data)
        self._outbox.append(_Outgoing(run_id, event, data, sse.one_line_json(data), same))
        self._queued += 1
        self._outbox_ready.set()

    async def flush(self) -> None:
        target = self._queued
        async with self._progress:
            await self._progress.wait_for(lambda: self._sent >= target)

    async def _send_forever(self) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            batch, self._outbox = self._outbox, []
            if not batch:
                continue
            self._deliver_sent(batch, await self._send(batch))
            async with self._progress:
                self._sent += len(batch)
                self._progress.notify_all()

    def _deliver_sent(self, batch: list[_Outgoing], numbers: list[int]) -> None:
        """Hand this process's own subscribers what it has just published, without waiting for
        the reader to read it back (bench_scale_out: time to first token through Redis, one
        process, +4.8 ms over in-memory events before, with the read-back). Only an event that
        continues the channel's history without a gap is taken here; anything else (another
        process published in between) comes through the reader, in order."""
        for item, seq in zip(batch, numbers, strict=True):
            channel = self._channels.get(item.run_id)
            if channel is None and seq == 1:
                channel = self._channels[item.run_id] = Channel()
                loop = asyncio.get_running_loop()
                loop.call_later(UNREAD_KEEP_SECONDS, self._released, item.run_id, channel)
            if channel is not None and seq == len(channel.history) + 1:
                channel.append(item.held(seq))
                if item.run_id in self._positions:
                    self._positions[item.run_id] = f"{seq}-0"

    async def _send(self, batch: list[_Outgoing]) -> list[int]:
        """Append the events to their runs' streams, in order; returns their numbers."""
        while True:
            try:
                return await self._send_once(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                if _being_cancelled():
                    raise asyncio.CancelledError from None
                # Redis is away: keep the events, in order, and try again (they are what
                # every rejoining client will be told).
                log.exception("publishing %d run events to Redis; retrying", len(batch))
                await asyncio.sleep(SEND_RETRY_SECONDS)

    async def _send_once(self, batch: list[_Outgoing]) -> list[int]:
        """One pipelined round trip of ``EVALSHA``s. Not redis-py's script objects: in a
        pipeline they ask ``SCRIPT EXISTS`` first, a round trip before every batch (time to
        first token through Redis +3.6 ms p50 over in-memory events, bench_scale_out)."""
        answers = await self._evalshas(batch)
        if any(isinstance(answer, NoScriptError) for answer in answers):
            # Redis lost its scripts (restarted, SCRIPT FLUSH). A missing script fails every
            # call of the batch, so none was applied: load it, send the batch again.
            await self._redis.script_load(_PUBLISH)
            answers = await self._evalshas(batch)
        for answer in answers:
            if isinstance(answer, Exception):
                raise answer
        return [int(seq) for seq in answers]

    async def _evalshas(self, batch: list[_Outgoing]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for item in batch:
                terminal = item.event in TERMINAL_EVENTS
                retain = self._retain_seconds if terminal else IDLE_RETAIN_SECONDS
                flag = "1" if item.same_for_all else "0"
                keys = _keys(item.run_id)
                pipe.evalsha(self._publish.sha, 2, *keys, item.event, item.payload, flag, retain)
            return await pipe.execute(raise_on_error=False)

    # --- subscribing ------------------------------------------------------------------------

    def open(self, run_id: str, after_seq: int = 0) -> Subscription:
        channel = self._channels.get(run_id)
        if channel is None:
            channel = self._channels[run_id] = Channel()
        if run_id not in self._positions:
            # Follow the run's stream from what this process holds of it (maybe nothing).
            self._positions[run_id] = f"{len(channel.history)}-0"
            self._wake_reader()
        return subscription(channel, after_seq, lambda: self._released(run_id, channel))

    def subscribe(self, run_id: str, after_seq: int = 0) -> AsyncIterator[RunEvent]:
        return iterate(self, run_id, after_seq)

    async def last_seq(self, run_id: str) -> int:
        value = await self._redis.get(_keys(run_id)[0])
        return int(value) if value is not None else 0

    def _released(self, run_id: str, channel: Channel) -> None:
        if not channel.subscribers and self._channels.get(run_id) is channel:
            # Nobody here reads the run any more: stop following it (a new subscriber reads
            # its stream again from the start).
            del self._channels[run_id]
            self._positions.pop(run_id, None)

    def _wake_reader(self) -> None:
        task = asyncio.ensure_future(self._redis.xadd(self._wake_key, {"w": "1"}, maxlen=10))
        task.add_done_callback(_log_failure)

    async def _read_forever(self) -> None:
        wake_position = "$"
        while not self._closing:
            streams = {self._wake_key: wake_position}
            streams.update({_keys(run)[1]: pos for run, pos in self._positions.items()})
            try:
                answer = await self._reader_redis.xread(streams, count=READ_COUNT, block=BLOCK_MS)
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._closing or _being_cancelled():
                    return  # redis-py reports a cancelled blocking read as a timeout
                log.exception("reading run events from Redis; retrying")
                await asyncio.sleep(SEND_RETRY_SECONDS)
                continue
            for key, entries in answer or []:
                name = key.decode() if isinstance(key, bytes) else key
                if name == self._wake_key:
                    wake_position = _decoded(entries[-1][0])
                else:
                    self._deliver(_run_of(name), entries)

    def _deliver(self, run_id: str, entries: list[tuple[Any, dict[Any, Any]]]) -> None:
        channel = self._channels.get(run_id)
        if channel is None:
            return  # its last subscriber left while the read was on its way
        for entry_id, fields in entries:
            position = _decoded(entry_id)
            seq = int(position.split("-", 1)[0])
            if seq <= len(channel.history):
                continue  # read twice (a wake-up raced a read): already held
            channel.append(_held(seq, fields))
            self._positions[run_id] = position


def _held(seq: int, fields: dict[Any, Any]) -> Held:
    event = fields[b"e"].decode()
    payload = fields[b"d"]
    if fields[b"s"] == b"1":
        return b"".join((f"id: {seq}\nevent: {event}\ndata: ".encode(), payload, b"\n\n"))
    return RunEvent(seq, event, orjson.loads(payload))


def _run_of(stream_key: str) -> str:
    return stream_key.split("{", 1)[1].split("}", 1)[0]


def _decoded(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("waking the run event reader: %s", task.exception())
