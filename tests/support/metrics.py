"""Reading /metrics as Prometheus would: prometheus_client's own parser, then sums."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "scrape-" + "m" * 24  # a test's metrics token


@dataclass(frozen=True)
class Scrape:
    samples: list[tuple[str, dict[str, str], float]]
    families: dict[str, str]  # family name -> type

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples named ``name`` whose labels include ``labels``."""
        return sum(
            value
            for sample, got, value in self.samples
            if sample == name and all(got.get(k) == v for k, v in labels.items())
        )

    def label_values(self, name: str, label: str) -> set[str]:
        return {got[label] for sample, got, _ in self.samples if sample == name and label in got}


def parse(text: str) -> Scrape:
    samples: list[tuple[str, dict[str, str], float]] = []
    families: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        samples += [(s.name, dict(s.labels), s.value) for s in family.samples]
    return Scrape(samples, families)


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
