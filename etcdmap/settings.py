"""The public import path of the pydantic-settings source: ``from etcdmap.settings import
EtcdSettingsSource`` (the code is :mod:`etcdmap.mapping.settings_source`).

:raises ImportError: on import, without the ``typed`` extra (pydantic and pydantic-settings),
    naming ``pip install 'etcdmap[typed]'``.
"""

from __future__ import annotations

from etcdmap.mapping.settings_source import EtcdSettingsSource

__all__ = ["EtcdSettingsSource"]
