"""Pipelines: the DAG model and its checks, the local runner, and the Argo compiler."""
