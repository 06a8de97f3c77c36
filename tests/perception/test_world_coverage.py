"""Placement makes driving rules fire: count rule-relevant cases over 200 seeds."""
from collections import Counter

import pytest

from perception.world import SceneGenerator, WorldConfig

NUM_SEEDS = 200


def count_cases(config) -> Counter:
    generator = SceneGenerator(config)
    cases = Counter()
    for seed in range(NUM_SEEDS):
        scene = generator.scene(seed)
        road, objects = scene.road, scene.objects
        for state in ("red", "yellow", "green"):
            cases[f"{state} light ahead"] += any(
                o.label == "traffic_light" and o.applies_to_ego and 5 <= o.position[1] <= 45
                and o.attributes["light_state"] == state for o in objects)
        cases["stop sign ahead"] += any(o.label == "stop_sign" and o.applies_to_ego and o.position[1] > 0
                                        for o in objects)
        cases["pedestrian on crosswalk"] += any(
            o.label == "pedestrian" and any(c.contains(*o.position) for c in road.crosswalks) for o in objects)
        cases["car close ahead"] += any(o.label in ("car", "truck") and o.lane == road.ego_lane
                                        and 0 < o.position[1] <= 15 for o in objects)
        cases["no control ahead"] += not any(o.applies_to_ego for o in objects)
        for neighbour in (road.ego_lane - 1, road.ego_lane + 1):
            if 0 <= neighbour < len(road.lanes):
                busy = any(o.label in ("car", "truck") and o.lane == neighbour and abs(o.position[1]) < 10
                           for o in objects)
                cases["neighbour lane occupied" if busy else "neighbour lane free"] += 1
        cases["intersection in view"] += bool(road.cross_roads)
    return cases


@pytest.mark.parametrize("preset", ["default", "hard"])
def test_rule_relevant_cases_are_common(preset):
    cases = count_cases(WorldConfig(preset=preset))
    share = {name: count / NUM_SEEDS for name, count in cases.items()}
    assert share["red light ahead"] >= 0.08, share
    assert share["green light ahead"] >= 0.08, share
    assert share["yellow light ahead"] >= 0.03, share
    assert share["stop sign ahead"] >= 0.04, share
    assert share["pedestrian on crosswalk"] >= 0.25, share
    assert share["car close ahead"] >= 0.25, share
    assert share["no control ahead"] >= 0.2, share
    assert share["neighbour lane occupied"] >= 0.15, share
    assert share["neighbour lane free"] >= 0.1, share
    assert share["intersection in view"] >= 0.2, share
