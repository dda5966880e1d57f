"""Building OpenLineage run events with the client's models (see :mod:`.openlineage`).

Imports ``openlineage-python`` at the top: only :class:`~.openlineage.LineageEmitter` imports
this module, inside its check that the lineage extra is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import data_quality_metrics_input_dataset as quality
from openlineage.client.facet_v2 import (
    documentation_job,
    error_message_run,
    job_type_job,
    nominal_time_run,
    parent_run,
    schema_dataset,
)
from openlineage.client.facet_v2 import output_statistics_output_dataset as statistics

from sameday.metadata.dataset_records import Observed
from sameday.monitor.openlineage import PRODUCER, JobRef, Seen


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _schema_facets(observed: Observed | None) -> dict[str, Any]:
    if observed is None or observed.columns is None:
        return {}
    fields = [
        schema_dataset.SchemaDatasetFacetFields(name=name, type=kind, ordinal_position=i)
        for i, (name, kind) in enumerate(observed.columns, 1)
    ]
    return {"schema": schema_dataset.SchemaDatasetFacet(fields=fields, producer=PRODUCER)}


def input_dataset(seen: Seen) -> InputDataset:
    """An input with its schema and data-quality metrics (rows, null counts, bytes, files)."""
    observed = seen.observed
    facets: dict[str, Any] = {}
    if observed is not None and (observed.row_count is not None or observed.bytes is not None):
        rows = observed.row_count
        metrics = {
            column: quality.ColumnMetrics(
                nullCount=round(share * rows) if rows is not None else None
            )
            for column, share in observed.null_shares.items()
        }
        facets["dataQualityMetrics"] = quality.DataQualityMetricsInputDatasetFacet(
            columnMetrics=metrics,
            rowCount=rows,
            bytes=observed.bytes,
            fileCount=observed.files,
            lastUpdated=_iso(observed.freshness) if observed.freshness else None,
            producer=PRODUCER,
        )
    namespace, name = seen.address
    return InputDataset(
        namespace=namespace, name=name, facets=_schema_facets(observed), inputFacets=facets
    )


def output_dataset(seen: Seen) -> OutputDataset:
    """An output with its schema and output statistics (rows, bytes, files)."""
    observed = seen.observed
    facets: dict[str, Any] = {}
    if observed is not None and (observed.row_count is not None or observed.bytes is not None):
        facets["outputStatistics"] = statistics.OutputStatisticsOutputDatasetFacet(
            rowCount=observed.row_count,
            size=observed.bytes,
            fileCount=observed.files,
            producer=PRODUCER,
        )
    namespace, name = seen.address
    return OutputDataset(
        namespace=namespace, name=name, facets=_schema_facets(observed), outputFacets=facets
    )


def run_event(
    state: str,
    job: JobRef,
    *,
    when: datetime,
    nominal: datetime,
    parent: JobRef | None = None,
    inputs: Sequence[Seen] = (),
    outputs: Sequence[Seen] = (),
    error: str | None = None,
    description: str | None = None,
) -> RunEvent:
    """One OpenLineage ``RunEvent`` (``state``: START, COMPLETE, FAIL or ABORT)."""
    run_facets: dict[str, Any] = {
        "nominalTime": nominal_time_run.NominalTimeRunFacet(
            nominalStartTime=_iso(nominal), producer=PRODUCER
        )
    }
    if parent is not None:
        run_facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=parent.run_id),
            job=parent_run.Job(namespace=parent.namespace, name=parent.name),
            root=parent_run.Root(
                run=parent_run.RootRun(runId=parent.run_id),
                job=parent_run.RootJob(namespace=parent.namespace, name=parent.name),
            ),
            producer=PRODUCER,
        )
    if error is not None:
        run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=error, programmingLanguage="shell", producer=PRODUCER
        )
    job_facets: dict[str, Any] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH",
            integration="SAMEDAY",
            jobType="TASK" if parent is not None else "DAG",
            producer=PRODUCER,
        )
    }
    if description:
        job_facets["documentation"] = documentation_job.DocumentationJobFacet(
            description=description, producer=PRODUCER
        )
    return RunEvent(
        eventType=RunState(state),
        eventTime=_iso(when),
        run=Run(runId=job.run_id, facets=run_facets),
        job=Job(namespace=job.namespace, name=job.name, facets=job_facets),
        inputs=[input_dataset(seen) for seen in inputs],
        outputs=[output_dataset(seen) for seen in outputs],
        producer=PRODUCER,
    )
