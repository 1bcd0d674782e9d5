"""kopf's settings for this operator, built from OperatorConfig (pure).

* Watches end and reconnect on bounded timeouts: a stalled watch is kopf's
  most reported failure, and an unbounded one can stall silently forever.
* kopf's own bookkeeping goes in ``sora.example.com`` annotations, never in
  the status (which the operator writes itself).
* Child watches are filtered on the server by the managed-by label, so the
  operator never lists every ConfigMap of the cluster into memory.
* Events are posted for explicit ``kopf.info``/``kopf.warn`` calls only, as
  component ``sora-operator``.
"""

from __future__ import annotations

import logging

import kopf

from sora_operator.api.v1alpha1 import GROUP
from sora_operator.builders.labels import MANAGED_SELECTOR, OPERATOR
from sora_operator.config import OperatorConfig
from sora_operator.handlers import CHILD_RESOURCES

REQUEST_TIMEOUT_SECONDS = 60.0


def kopf_settings(config: OperatorConfig) -> kopf.OperatorSettings:
    settings = kopf.OperatorSettings()
    settings.watching.server_timeout = config.watch.server_timeout
    settings.watching.client_timeout = config.watch.client_timeout
    settings.watching.connect_timeout = config.watch.connect_timeout
    settings.networking.connect_timeout = config.watch.connect_timeout
    settings.networking.request_timeout = REQUEST_TIMEOUT_SECONDS
    for child in CHILD_RESOURCES:
        settings.watching.label_selectors[child] = MANAGED_SELECTOR
    settings.posting.enabled = True
    settings.posting.loggers = False
    settings.posting.level = logging.INFO
    settings.posting.reporting_component = OPERATOR
    settings.posting.reporting_instance = config.lease.identity
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=GROUP)
    settings.persistence.finalizer = f"{GROUP}/finalizer"
    settings.execution.max_workers = config.workers
    settings.peering.standalone = True
    return settings
