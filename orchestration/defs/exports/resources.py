"""Where the CRM import files go."""

from pathlib import Path

import dagster as dg


class CrmExportResource(dg.ConfigurableResource):
    """The directory the CRM export writes into, one subdirectory per CRM (hubspot/, salesforce/)."""

    directory: str

    @property
    def path(self) -> Path:
        return Path(self.directory)
