"""Hunt a compiled indset set through a log dataset with PySpark.

Every executor process maps the set once (it is shipped with SparkFiles and
kept in a module-level cache), and every task checks its rows in Arrow
batches with `Set.check_batch`, which runs without the GIL. The output holds
the records that an indicator decides or audits, with the decision and the
indicator's id: the records `indset scan` prints for the same lines.

    spark-submit examples/spark_hunt.py --set set.indset \\
        --logs 's3://logs/proxy/2026/*.jsonl.gz' --out hits.parquet

The logs are JSON lines read with `--field` (default `url`) as the URL (or,
with `--mode domain`, the host name); every other field listed in `--keep`
is carried to the output. The `indset` wheel (python/ in the repository)
must be installed on the driver and on every executor, with pandas (pyspark
requires it for mapInArrow).
"""

import argparse
import os

import pyarrow as pa
import pyarrow.compute as pc
from pyspark import SparkFiles
from pyspark.sql import SparkSession
from pyspark.sql.types import LongType, StringType, StructField, StructType

# The sets this Python worker process has mapped, by file name: opened on
# the first batch, then shared by every later task the worker runs (Spark
# reuses its Python workers; `spark.python.worker.reuse` is on by default).
_SETS = {}


def _set(name):
    s = _SETS.get(name)
    if s is None:
        import indset

        s = indset.Set.open(SparkFiles.get(name))
        _SETS[name] = s
    return s


def hunt(batches, set_name, field, mode, now):
    """mapInArrow: the rows of each batch that an indicator matches."""
    s = _set(set_name)
    for batch in batches:
        queries = batch.column(batch.schema.get_field_index(field))
        decisions, ids = s.check_batch(queries, mode, now)
        matched = pc.is_valid(ids)
        columns = [c.filter(matched) for c in batch.columns]
        yield pa.RecordBatch.from_arrays(
            columns + [decisions.filter(matched), ids.filter(matched)],
            names=batch.schema.names + ["decision", "indicator"],
        )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", required=True, help="the compiled set (indset compile -o FILE)")
    p.add_argument("--logs", required=True, help="JSON-lines logs: a path, a glob or a directory")
    p.add_argument("--out", required=True, help="where to write the matches (Parquet)")
    p.add_argument("--field", default="url", help="the field holding the URL or host (default: url)")
    p.add_argument("--keep", default="", help="other fields to carry over, comma-separated (e.g. ts,client)")
    p.add_argument("--long-fields", default="", help="those of --keep that are integers")
    p.add_argument("--mode", choices=["full", "domain"], default="full")
    p.add_argument("--now", type=int, default=None, help="the time for expiring indicators, Unix seconds")
    p.add_argument("--master", default=None, help="e.g. local[2]; default: spark-submit's")
    p.add_argument("--batch-rows", type=int, default=65536, help="rows per Arrow batch")
    args = p.parse_args()

    builder = SparkSession.builder.appName("indset-hunt")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.config("spark.sql.execution.arrow.maxRecordsPerBatch", str(args.batch_rows)).getOrCreate()

    spark.sparkContext.addFile(os.path.abspath(args.set))
    set_name = os.path.basename(args.set)

    longs = {f for f in args.long_fields.split(",") if f}
    keep = [f for f in args.keep.split(",") if f and f != args.field]
    fields = [StructField(f, LongType() if f in longs else StringType()) for f in keep]
    fields.append(StructField(args.field, StringType()))
    schema = StructType(fields)
    logs = spark.read.schema(schema).json(args.logs)

    out_schema = StructType(fields + [StructField("decision", StringType()), StructField("indicator", StringType())])
    field, mode, now = args.field, args.mode, args.now
    hits = logs.mapInArrow(lambda it: hunt(it, set_name, field, mode, now), out_schema)
    hits.write.mode("overwrite").parquet(args.out)
    spark.stop()


if __name__ == "__main__":
    main()
