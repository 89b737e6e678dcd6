"""Queue inventory speed on a generated repository (Python, Go, TypeScript, Ruby).

N files per language (default 1,500, so 6,000 files), one in ten using a queue library
(Celery tasks with a Kafka producer, BullMQ queues with kafkajs, asynq tasks with sarama,
Sidekiq workers with Bunny), the rest the ordinary service and model code of
``benchmarks/endpoints.py``. Prints MB/s of source scanned per language and in total with a
cold cache (target >= 5 MB/s per core), then the time of a ``--base HEAD`` diff after a
one-file change, per language, at two repository sizes: with the blob-id cache only the
changed file is scanned again, so the time follows the change, not the repository.
Usage: python benchmarks/queues.py [FILES_PER_LANGUAGE]   (default 1500)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from endpoints import MODEL_RB, SERVICE_GO, SERVICE_PY, SERVICE_TS, report_scanning, write_files

from backend_agent.analysis.project import Project
from backend_agent.analysis.queues.diff import diff_queues
from backend_agent.analysis.queues.inventory import extractors, queue_inventory

QUEUE_SHARE = 10  # one file in ten uses a queue library

QUEUE_PY = """from celery import shared_task
from kafka import KafkaProducer

from app.topics import ORDERS_TOPIC

producer = KafkaProducer(bootstrap_servers="kafka:9092")


@shared_task(queue="q{i}")
def process_{i}(order_id: int, notify: bool = False):
    producer.send(ORDERS_TOPIC + ".{i}", value=str(order_id).encode())


def checkout_{i}(order):
    process_{i}.delay(order.id)
"""

QUEUE_TS = """import {{ Queue, Worker }} from 'bullmq';
import {{ Kafka }} from 'kafkajs';
import {{ TOPIC }} from '../topics';

const queue = new Queue('q{i}', {{ connection: {{ host: 'redis' }} }});
const producer = new Kafka({{ brokers: ['kafka:9092'] }}).producer();

export const worker{i} = new Worker('q{i}', async (job) => job.data);

export async function order{i}(id: string) {{
  await queue.add('process-{i}', {{ id }});
  await producer.send({{ topic: `${{TOPIC}}.{i}`, messages: [{{ value: id }}] }});
}}
"""

QUEUE_GO = """package q{i}

import (
	"github.com/IBM/sarama"
	"github.com/hibiken/asynq"
)

const TypeProcess = "process:{i}"

func NewProcessTask(payload []byte) *asynq.Task {{
	return asynq.NewTask(TypeProcess, payload, asynq.Queue("q{i}"))
}}

func Publish(p sarama.SyncProducer, data []byte) error {{
	message := &sarama.ProducerMessage{{Topic: "go-orders.{i}", Value: sarama.ByteEncoder(data)}}
	_, _, err := p.SendMessage(message)
	return err
}}

func Routes(mux *asynq.ServeMux) {{
	mux.HandleFunc(TypeProcess, nil)
}}
"""

QUEUE_RB = """class Process{i}Worker
  include Sidekiq::Job
  sidekiq_options queue: "q{i}"

  def perform(order_id, notify = false)
    ch = Bunny.new.tap(&:start).create_channel
    ch.default_exchange.publish(order_id.to_s, routing_key: "rb-orders.{i}")
  end
end
"""


@dataclass(frozen=True)
class Language:
    extractor: str
    service: str
    service_path: str
    queue: str
    queue_path: str
    edit: tuple[str, str]  # in queue file {i}: renames its channel


LANGUAGES = (
    Language("python", SERVICE_PY, "app/services/s{i}.py", QUEUE_PY, "app/tasks/t{i}.py",
             ('ORDERS_TOPIC + ".{i}"', 'ORDERS_TOPIC + ".renamed{i}"')),
    Language("javascript", SERVICE_TS, "web/src/services/s{i}.ts", QUEUE_TS,
             "web/src/queues/q{i}.ts", ("${{TOPIC}}.{i}`", "${{TOPIC}}.renamed{i}`")),
    Language("go", SERVICE_GO, "go/services/s{i}/s.go", QUEUE_GO, "go/q{i}/q.go",
             ('Topic: "go-orders.{i}"', 'Topic: "go-orders.renamed{i}"')),
    Language("ruby", MODEL_RB, "rails/app/models/thing{i}.rb", QUEUE_RB,
             "rails/app/workers/process{i}_worker.rb",
             ('"rb-orders.{i}"', '"rb-orders.renamed{i}"')),
)  # fmt: skip
EXTRAS = {
    "app/topics.py": 'ORDERS_TOPIC = "py-orders"\n',
    "web/src/topics.ts": "export const TOPIC = 'ts-orders';\n",
    "go.mod": "module example.com/bench\n\ngo 1.22\n",
}


def generate(root: Path, count: int) -> int:
    """Write ``count`` source files per language; returns the bytes written."""
    queues = max(1, count // QUEUE_SHARE)
    files = list(EXTRAS.items())
    for language in LANGUAGES:
        files += [(language.service_path.format(i=i), language.service.format(i=i))
                  for i in range(count - queues)]  # fmt: skip
        files += [(language.queue_path.format(i=i), language.queue.format(i=i))
                  for i in range(queues)]  # fmt: skip
    return write_files(root, files)


def changed_files(root: Path, changed: int) -> dict[str, float]:
    """Per language: seconds of ``--base HEAD`` after renaming one channel in each of
    ``changed`` queue files (the change is undone afterwards)."""
    times: dict[str, float] = {}
    for language in LANGUAGES:
        originals = {}
        for i in range(changed):
            path = root / language.queue_path.format(i=i)
            originals[path] = path.read_text()
            old, new = (part.format(i=i) for part in language.edit)
            path.write_text(originals[path].replace(old, new))
        started = time.perf_counter()
        head = Project(root)
        changes = diff_queues(head.at("HEAD"), head)
        times[language.extractor] = time.perf_counter() - started
        for path, text in originals.items():
            path.write_text(text)
        renamed = [c for c in changes if c.rule == "channel-renamed"]
        assert len(renamed) == changed, changes
    return times


def build(root: Path, count: int, first: bool = True) -> tuple[int, float]:
    """Generate and commit a repository, then time its inventory, printed for the ``first``
    repository of a run (the cold one): (bytes, seconds)."""
    size = generate(root, count)
    for args in (["init", "-q"], ["add", "."],
                 ["-c", "user.email=b@x", "-c", "user.name=b", "commit", "-qm", "b"]):  # fmt: skip
        subprocess.run(["git", "-C", str(root), *args], check=True)
    started = time.perf_counter()
    inventory = queue_inventory(Project(root))
    seconds = time.perf_counter() - started
    if first:
        print(
            f"{len(Project(root).files())} files, {size / 1e6:.1f} MB: "
            f"{len(inventory.channels)} channels, {len(inventory.jobs)} jobs; cold inventory "
            f"{seconds:.2f} s = {size / 1e6 / seconds:.1f} MB/s ({os.cpu_count()} cores)"
        )
    return size, seconds


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["BACKEND_AGENT_CACHE_DIR"] = str(Path(tmp) / ".cache")
        large, small = Path(tmp) / "large", Path(tmp) / "small"
        _, cold = build(large, count)  # first: nothing is cached yet
        print("scanning alone, one process:")
        report_scanning(Project(large), extractors())
        one, ten = changed_files(large, 1), changed_files(large, 10)
        build(small, max(QUEUE_SHARE * 10, count // 4), first=False)
        small_one = changed_files(small, 1)
        print("--base HEAD after renaming a channel in 1 and in 10 files, and in 1 file of a")
        print("repository with a quarter of the files:")
        for name, seconds in one.items():
            print(
                f"  {name:<10} 1 file {seconds:.2f} s ({seconds / cold:.2f} x cold), "
                f"10 files {ten[name]:.2f} s; quarter-size repository, 1 file "
                f"{small_one[name]:.2f} s"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1500)
