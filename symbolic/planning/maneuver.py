"""Maneuver plans: a few seconds of actions that reach the route's next lane, every step within the rules.

The route says which lane the ego must be in before a point (the turn lane
before an intersection: :func:`target_from_route`). :class:`ManeuverPlanner`
looks ``horizon`` steps of ``step_s`` seconds ahead over abstract ego states
(lane, position along the road, speed) and finds a sequence of the driving
actions that gets there, checking each step with the reasoner on the facts
predicted for that moment. The planner does not know what facts a world has:
it is given the function that predicts them (``predict_facts``; the driving
world's is :func:`bridge.maneuver_facts.predicted_fact_list`, in which tracked
objects move at constant velocity). The frame's action is the plan's first
step. When no plan exists, the plan is the rule file's safe action, and the
rules that forbid the needed lane change are named.

The present is not predicted: a pipeline that has already decided the frame
(on the frame's own facts: their uncertainty, the soft rules and preferences)
passes that decision as ``first_action``, and the plan starts with it. Facts
predicted for t = 0 from point velocities can differ from the frame's (a time to
collision read with the tracker's speed uncertainty), so a planner that judged
step 0 itself could start with ``slow`` in a frame the reasoner stopped in.

The plans searched: per lane still to cross, hold one longitudinal action
(``go``, ``slow``, ``yield`` or ``stop``) for 0 or more steps, then change
lane; the earliest change wins, ties go to that order. One reasoner call per
abstract state tells both whether the held action may go on and whether the
change may happen now, so a horizon of H steps costs at most ``1 + 4 (H - 1)``
reasoner calls per lane to cross.

Coordinates are the road frame: metres, ``x`` from the road's left edge to the
right, ``y`` forward along the road; lane ``i`` (0 = leftmost) spans
``[i * lane_width, (i + 1) * lane_width)``. The bridge converts its ego-frame
objects by adding the ego's lane centre to ``x`` and the ego's ``y`` to ``y``.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Protocol, Sequence

from symbolic.planning.roadnet import read_json, straight_road
from symbolic.reasoning.decision import RuleInstance
from symbolic.reasoning.facts import Fact

#: action -> (acceleration m/s^2, lane step); lane changes keep the speed
ACTION_EFFECTS = {"stop": (-6.0, 0), "yield": (-3.0, 0), "slow": (-1.5, 0), "go": (2.0, 0),
                  "change_left": (0.0, -1), "change_right": (0.0, 1)}
HOLD_ACTIONS = ("go", "slow", "yield", "stop")


@dataclass(frozen=True)
class RoadLayout:
    """A straight road ahead of the ego: lanes side by side, an optional stop line and crosswalk.

    Args:
        num_lanes: lanes in the ego's direction (>= 1).
        lane_width: metres.
        speed_limit: m/s.
        stop_line_y: ``y`` of the stop line across every lane, or None.
        crosswalk: ``(y_min, y_max)`` of a crosswalk across the road, or None.

    Example:
        >>> RoadLayout(num_lanes=3).lane_at(4.0)
        1
    """

    num_lanes: int = 3
    lane_width: float = 3.5
    speed_limit: float = 13.9
    stop_line_y: float | None = None
    crosswalk: tuple[float, float] | None = None

    def __post_init__(self):
        if isinstance(self.num_lanes, bool) or not isinstance(self.num_lanes, int) or self.num_lanes < 1:
            raise ValueError(f"`num_lanes` must be an integer >= 1. Received num_lanes={self.num_lanes!r}")
        for name in ("lane_width", "speed_limit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
                raise ValueError(f"`{name}` must be a positive number. Received {name}={value!r}")

    @property
    def width(self) -> float:
        return self.num_lanes * self.lane_width

    def lane_at(self, x: float) -> int | None:
        """The lane holding lateral position ``x`` (metres), or None off the road."""
        if not 0.0 <= x < self.width:
            return None
        return int(x // self.lane_width)

    def lane_centre(self, lane: int) -> float:
        return (lane + 0.5) * self.lane_width


@dataclass(frozen=True)
class ManeuverState:
    """The ego in the road frame: its lane, position along the road (m) and speed (m/s).

    Example:
        >>> ManeuverState(lane=1, y=0.0, speed=10.0).speed
        10.0
    """

    lane: int
    y: float = 0.0
    speed: float = 0.0


@dataclass(frozen=True)
class TrackedObject:
    """A tracked object in the road frame, moving at constant velocity.

    Args:
        id: stable constant, e.g. ``"o3"``.
        label: its class, e.g. ``"car"`` (a class predicate of the rules' vocabulary).
        x, y: metres of its centre (road frame).
        vx, vy: m/s over the ground.
        length, width: metres (length along the road).
        light: ``red``/``yellow``/``green`` for a traffic light (held over the horizon).
        confidence: probability it exists with this label.

    Example:
        >>> TrackedObject("o1", "car", x=5.25, y=20.0, vy=8.0).at(0.5).y
        24.0
    """

    id: str
    label: str
    x: float
    y: float
    vx: float = 0.0
    vy: float = 0.0
    length: float = 4.5
    width: float = 1.8
    light: str | None = None
    confidence: float = 1.0

    def at(self, t: float) -> "TrackedObject":
        """The object ``t`` seconds later, at constant velocity."""
        return replace(self, x=self.x + self.vx * t, y=self.y + self.vy * t)


@dataclass(frozen=True)
class ManeuverTarget:
    """Be in ``lane`` before the ego passes ``before_y`` (metres; None: anywhere within the horizon).

    Example:
        >>> ManeuverTarget(lane=0, before_y=80.0).lane
        0
    """

    lane: int
    before_y: float | None = None


@dataclass
class ManeuverPlan:
    """A plan over the horizon and why it is (or is not) possible.

    Attributes:
        action: the action for this frame (the first step, or the safe action).
        actions: the planned actions, one per step (``[safe]`` when failed).
        states: the ego state before each step and after the last.
        reached: whether the plan reaches the target.
        blocking: rule instances that forbid the needed lane change (failed plans).
        reason: the outcome in words.
        num_checks: reasoner calls made.
        ms: planning time in milliseconds.
    """

    action: str
    actions: list[str]
    states: list[ManeuverState]
    reached: bool
    blocking: list[RuleInstance] = field(default_factory=list)
    reason: str = ""
    num_checks: int = 0
    ms: float = 0.0

    def to_json(self) -> dict:
        return {"action": self.action, "actions": list(self.actions), "reached": self.reached,
                "states": [[s.lane, round(s.y, 2), round(s.speed, 2)] for s in self.states],
                "blocking": [{"rule": r.rule, "bindings": list(r.bindings), "source": r.source} for r in self.blocking],
                "reason": self.reason, "num_checks": self.num_checks, "ms": round(self.ms, 3)}


class RuleChecker(Protocol):
    """What the planner needs from a reasoner (:class:`symbolic.reasoning.reasoner.Reasoner` has it)."""

    def allowed_actions(self, facts) -> list[str]: ...

    def violations(self, facts, action: str) -> list[RuleInstance]: ...


#: what a planner asks of its world: ``predict_facts(ego, objects, road, t)``, the facts ``t`` seconds
#: ahead with the ego at ``ego`` (the planner moves it) and ``objects`` as tracked at time 0.
FactPrediction = Callable[[ManeuverState, Sequence[TrackedObject], RoadLayout, float], Iterable[Fact]]


def step_ego(ego: ManeuverState, action: str, road: RoadLayout, step_s: float) -> ManeuverState:
    """The ego after ``step_s`` seconds of ``action`` (:data:`ACTION_EFFECTS`; speed within [0, limit]).

    Example:
        >>> step_ego(ManeuverState(lane=1, y=0.0, speed=10.0), "change_left", RoadLayout(), 0.5)
        ManeuverState(lane=0, y=5.0, speed=10.0)
        >>> step_ego(ManeuverState(lane=1, y=0.0, speed=2.0), "stop", RoadLayout(), 0.5)
        ManeuverState(lane=1, y=0.3333333333333333, speed=0.0)
    """
    if action not in ACTION_EFFECTS:
        raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTION_EFFECTS)}")
    acceleration, lane_step = ACTION_EFFECTS[action]
    speed = ego.speed
    top = max(road.speed_limit, speed) if acceleration > 0 else speed
    new_speed = min(max(speed + acceleration * step_s, 0.0), top if acceleration > 0 else speed)
    if acceleration < 0 and speed + acceleration * step_s < 0:
        travelled = speed * speed / (2 * -acceleration)  # stops within the step
    else:
        travelled = (speed + new_speed) / 2 * step_s
    return ManeuverState(lane=ego.lane + lane_step, y=ego.y + travelled, speed=new_speed)


# ---------------------------------------------------------------------- planning
class ManeuverPlanner:
    """Bounded maneuver planning under the hard rules.

    Args:
        reasoner: anything with ``allowed_actions(facts)`` and
            ``violations(facts, action)``, e.g. :class:`symbolic.reasoning.reasoner.Reasoner`.
        road: the :class:`RoadLayout`.
        predict_facts: the facts of a step, ``predict_facts(ego, objects, road, t)``
            (:data:`FactPrediction`): the world ``t`` seconds ahead with the ego
            at ``ego`` and ``objects`` as tracked now. The driving world's is
            :func:`bridge.maneuver_facts.predicted_fact_list`.
        horizon: steps to look ahead (>= 1).
        step_s: seconds per step (> 0).
        safe_action: the action of a failed plan; default: the reasoner's rule
            file's ``safe`` action, else ``"stop"``.
        max_checks: reasoner calls one plan may make; when spent, the plan
            fails safe and says so.

    Example:
        >>> class NoRules:
        ...     def allowed_actions(self, facts): return list(ACTION_EFFECTS)
        ...     def violations(self, facts, action): return []
        >>> def no_facts(ego, objects, road, t): return []
        >>> planner = ManeuverPlanner(NoRules(), RoadLayout(num_lanes=3), predict_facts=no_facts)
        >>> plan = planner.plan(ManeuverState(lane=2, y=0.0, speed=10.0), [], ManeuverTarget(lane=0))
        >>> plan.action, plan.actions, plan.reached
        ('change_left', ['change_left', 'change_left'], True)
    """

    def __init__(self, reasoner: RuleChecker, road: RoadLayout, *, predict_facts: FactPrediction,
                 horizon: int = 10, step_s: float = 0.5, safe_action: str | None = None, max_checks: int = 40):
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
            raise ValueError(f"`horizon` must be an integer >= 1. Received horizon={horizon!r}")
        if isinstance(step_s, bool) or not isinstance(step_s, (int, float)) or not 0 < step_s < math.inf:
            raise ValueError(f"`step_s` must be a positive number of seconds. Received step_s={step_s!r}")
        if not isinstance(road, RoadLayout):
            raise TypeError(f"`road` must be a RoadLayout. Received {type(road).__name__}")
        if not callable(predict_facts):
            raise TypeError("`predict_facts` must be a function (ego, objects, road, t) -> facts. "
                            f"Received predict_facts={predict_facts!r}")
        if isinstance(max_checks, bool) or not isinstance(max_checks, int) or max_checks < 1:
            raise ValueError(f"`max_checks` must be an integer >= 1. Received max_checks={max_checks!r}")
        self.reasoner = reasoner
        self.road = road
        self.predict_facts = predict_facts
        self.max_checks = max_checks
        self.horizon = horizon
        self.step_s = float(step_s)
        ruleset = getattr(reasoner, "ruleset", None)
        self.safe_action = safe_action or getattr(ruleset, "safe_action", None) or "stop"

    def plan(self, ego: ManeuverState, objects: Sequence[TrackedObject], target: ManeuverTarget, *,
             first_action: str | None = None) -> ManeuverPlan:
        """Plan from ``ego`` to ``target`` with ``objects`` moving at constant velocity.

        Args:
            ego: the ego now.
            objects: the tracked objects now.
            target: the lane to reach.
            first_action: the action already decided for now (the reasoner's
                decision on the frame's facts): the plan's first step, and the
                action of a plan that fails. None: the planner judges step 0 on
                the facts it predicts for t = 0, and a failed plan is the safe action.

        Returns:
            A :class:`ManeuverPlan`; ``plan.action`` is this frame's action.

        Example:
            >>> class NoChangeNow:
            ...     def allowed_actions(self, facts): return list(ACTION_EFFECTS)
            ...     def violations(self, facts, action): return []
            >>> def no_facts(ego, objects, road, t): return []
            >>> planner = ManeuverPlanner(NoChangeNow(), RoadLayout(num_lanes=2), predict_facts=no_facts)
            >>> planner.plan(ManeuverState(lane=1, speed=10.0), [], ManeuverTarget(lane=0), first_action="stop").actions
            ['stop', 'change_left']
        """
        began = time.perf_counter()
        self._check(ego, target)
        if first_action is not None and first_action not in ACTION_EFFECTS:
            raise ValueError(f"`first_action` must be one of {', '.join(ACTION_EFFECTS)} or None. "
                             f"Received first_action={first_action!r}")
        search = _Search(self, list(objects), first_action)
        found = search.lanes_to(ego, 0, target)
        if found is not None:
            actions, states = found
            if not actions:  # already there: one step of the best action the rules allow
                allowed = search.allowed(ego, 0)
                first = first_action or next((a for a in HOLD_ACTIONS if a in allowed), self.safe_action)
                actions, states = [first], [ego, step_ego(ego, first, self.road, self.step_s)]
            reason = (f"reaches lane {target.lane} in {len(actions)} steps" if ego.lane != target.lane
                      else f"already in lane {target.lane}")
            return ManeuverPlan(actions[0], actions, states, True, reason=reason, num_checks=search.num_checks,
                                ms=(time.perf_counter() - began) * 1e3)
        blocking = search.blocking(ego, target)
        names = ", ".join(dict.fromkeys(r.name for r in blocking)) or "no rule; the horizon is too short"
        if search.out_of_budget:
            names += f" (search stopped after {self.max_checks} reasoner calls)"
        where = f" before y={target.before_y:g}" if target.before_y is not None else ""
        action = first_action if first_action is not None else self.safe_action
        return ManeuverPlan(action, [action], [ego], False, blocking=blocking,
                            reason=f"no plan reaches lane {target.lane}{where} within {self.horizon} steps; "
                                   f"blocked by {names}",
                            num_checks=search.num_checks, ms=(time.perf_counter() - began) * 1e3)

    def _check(self, ego: ManeuverState, target: ManeuverTarget) -> None:
        for name, lane in (("ego.lane", ego.lane), ("target.lane", target.lane)):
            if isinstance(lane, bool) or not isinstance(lane, int) or not 0 <= lane < self.road.num_lanes:
                raise ValueError(f"`{name}` must be a lane index in [0, {self.road.num_lanes - 1}]. "
                                 f"Received {name}={lane!r}")


class _Search:
    """One planning call: memoised reasoner checks over abstract ego states."""

    def __init__(self, planner: ManeuverPlanner, objects: list[TrackedObject], first_action: str | None = None):
        self.planner = planner
        self.objects = objects
        self.first_action = first_action
        self.num_checks = 0
        self.out_of_budget = False
        self._allowed: dict[tuple, list[str]] = {}
        self._dead_ends: set[tuple] = set()  # (step, state) from which the target is out of reach
        self.refused: list[tuple[ManeuverState, int]] = []  # states where the needed change was not allowed

    @staticmethod
    def _key(ego: ManeuverState, step: int) -> tuple:
        return step, ego.lane, round(ego.y, 3), round(ego.speed, 3)

    def allowed(self, ego: ManeuverState, step: int) -> list[str]:
        if step == 0 and self.first_action is not None:
            return [self.first_action]  # decided on the frame's own facts: not judged again
        key = self._key(ego, step)
        if key not in self._allowed:
            self.num_checks += 1
            facts = self.planner.predict_facts(ego, self.objects, self.planner.road, step * self.planner.step_s)
            self._allowed[key] = list(self.planner.reasoner.allowed_actions(facts))
        return self._allowed[key]

    def lanes_to(self, ego: ManeuverState, step: int, target: ManeuverTarget):
        """Actions and states from ``ego`` at ``step`` to the target lane, or None."""
        if ego.lane == target.lane:
            return [], [ego]
        key = self._key(ego, step)
        if key in self._dead_ends:
            return None
        found = self._lanes_to(ego, step, target)
        if found is None:
            self._dead_ends.add(key)
        return found

    def _lanes_to(self, ego: ManeuverState, step: int, target: ManeuverTarget):
        planner = self.planner
        change = "change_left" if target.lane < ego.lane else "change_right"
        lanes_left = abs(target.lane - ego.lane)
        chains = {hold: (ego, [], [ego]) for hold in HOLD_ACTIONS}  # hold -> (state, actions, states)
        for k in range(step, planner.horizon - lanes_left + 1):
            for hold in HOLD_ACTIONS:
                if hold not in chains:
                    continue
                state, actions, states = chains[hold]
                if target.before_y is not None and state.y > target.before_y:
                    del chains[hold]
                    continue
                if self.num_checks >= planner.max_checks and self._key(state, k) not in self._allowed:
                    self.out_of_budget = True
                    return None
                allowed = self.allowed(state, k)
                if change in allowed:
                    after = step_ego(state, change, planner.road, planner.step_s)
                    rest = self.lanes_to(after, k + 1, target)
                    if rest is not None:
                        return actions + [change] + rest[0], states + rest[1]
                elif k > 0 or self.first_action is None:  # a refusal now is the decision's, not a rule's here
                    self.refused.append((state, k))
                if hold not in allowed:
                    del chains[hold]
                    continue
                after = step_ego(state, hold, planner.road, planner.step_s)
                chains[hold] = (after, actions + [hold], states + [after])
        return None

    def blocking(self, ego: ManeuverState, target: ManeuverTarget) -> list[RuleInstance]:
        """The rule instances that forbade the needed change, from the first states where it was refused."""
        if ego.lane == target.lane or not self.refused:
            return []
        change = "change_left" if target.lane < ego.lane else "change_right"
        found: dict[str, RuleInstance] = {}
        for state, step in self.refused[:3]:
            facts = self.planner.predict_facts(state, self.objects, self.planner.road, step * self.planner.step_s)
            for instance in self.planner.reasoner.violations(facts, change):
                found.setdefault(instance.name, instance)
        return list(found.values())


# ---------------------------------------------------------------------- from the map and route
def layout_from_road(road) -> RoadLayout:
    """The :class:`RoadLayout` of a :func:`symbolic.planning.roadnet.straight_road` network.

    Example:
        >>> from symbolic.planning.roadnet import straight_road
        >>> layout_from_road(straight_road(num_lanes=2, crossing_at=100.0))
        RoadLayout(num_lanes=2, lane_width=3.5, speed_limit=13.9, stop_line_y=93.0, crosswalk=None)
    """
    lanes = {a["lane"]: a["x"] for _, a in road.graph.nodes(data=True) if "lane" in a}
    if not lanes:
        raise ValueError(f"map {road.name} has no lane nodes (node attribute `lane`); "
                         f"a RoadLayout needs a straight multi-lane road")
    num_lanes = max(lanes) + 1
    width = (lanes[num_lanes - 1] - lanes[0]) / (num_lanes - 1) if num_lanes > 1 else 2 * lanes[0]
    limits = [a["speed_limit"] for _, _, a in road.graph.edges(data=True) if a.get("kind") == "lane"]
    stops = [a["y"] for _, a in road.graph.nodes(data=True) if "lane" in a and "intersection" in a]
    return RoadLayout(num_lanes=num_lanes, lane_width=round(width, 6), speed_limit=max(limits, default=13.9),
                      stop_line_y=min(stops) if stops else None)


def road_for_layout(layout: RoadLayout, *, length: float = 200.0, spacing: float = 10.0,
                    crossing_half_width: float = 7.0, start_y: float = -50.0):
    """The road network matching a :class:`RoadLayout` (so a scene's road and its map agree).

    Same lanes, lane width and speed limit; with a stop line, a crossing road
    just beyond it (:func:`symbolic.planning.roadnet.straight_road`).

    Example:
        >>> road = road_for_layout(RoadLayout(num_lanes=2, lane_width=3.4, stop_line_y=40.0))
        >>> road.position("L1_stop"), layout_from_road(road).stop_line_y
        ((5.1, 40.0), 40.0)
    """
    crossing_at = None if layout.stop_line_y is None else layout.stop_line_y + crossing_half_width
    return straight_road(num_lanes=layout.num_lanes, length=length, spacing=spacing, lane_width=layout.lane_width,
                         speed_limit=layout.speed_limit, crossing_at=crossing_at,
                         crossing_half_width=crossing_half_width, start_y=start_y)


def target_from_route(road, route) -> ManeuverTarget | None:
    """The lane the route needs next: the lane it enters its first junction from, before that stop line.

    Returns None when the route turns at no junction (the target is then the
    lane of the route's last lane node, anywhere).

    Example:
        >>> from symbolic.planning.roadnet import straight_road
        >>> from symbolic.planning.routing import RoutePlanner
        >>> road = straight_road(num_lanes=3)
        >>> route = RoutePlanner().fit(road).plan("L2_0", "W_end")
        >>> target_from_route(road, route)
        ManeuverTarget(lane=0, before_y=93.0)
    """
    for u, v in route.edges:
        if road.edge(u, v)["kind"] == "junction" and "lane" in road.node(u):
            return ManeuverTarget(lane=road.node(u)["lane"], before_y=road.node(u)["y"])
    lanes = [road.node(n)["lane"] for n in route.nodes if "lane" in road.node(n)]
    return ManeuverTarget(lane=lanes[-1]) if lanes else None


def nearest_lane_node(road, lane: int, y: float) -> str:
    """The node of ``lane`` at or just ahead of position ``y`` (where a route from the ego starts).

    Example:
        >>> from symbolic.planning.roadnet import straight_road
        >>> nearest_lane_node(straight_road(num_lanes=2, crossing_at=None), lane=1, y=13.0)
        'L1_2'
    """
    ahead = [(a["y"], n) for n, a in road.graph.nodes(data=True) if a.get("lane") == lane and a["y"] >= y - 1e-9]
    if not ahead:
        raise ValueError(f"map {road.name} has no node of lane {lane} at or ahead of y={y:g}")
    return min(ahead)[1]


def route_and_target(planner, lane: int, y: float, destination: str):
    """The route from the ego's lane and position to ``destination``, and the lane it needs next.

    What a pipeline calls per frame: the ego's lane and ``y`` on a map from
    :func:`road_for_layout`, a fitted :class:`~symbolic.planning.routing.RoutePlanner`
    on it, and the destination node (e.g. ``"W_end"`` to turn left at the crossing).

    Returns:
        ``(route, target)``: a :class:`~symbolic.planning.routing.Route` and a
        :class:`ManeuverTarget` (the lane to be in before the next junction).

    Example:
        >>> from symbolic.planning.routing import RoutePlanner
        >>> road = road_for_layout(RoadLayout(num_lanes=3, stop_line_y=60.0))
        >>> route, target = route_and_target(RoutePlanner().fit(road), lane=2, y=0.0, destination="W_end")
        >>> route.nodes[0], target
        ('L2_5', ManeuverTarget(lane=0, before_y=60.0))
    """
    route = planner.plan(nearest_lane_node(planner.road_, lane, y), destination)
    target = target_from_route(planner.road_, route) or ManeuverTarget(lane=lane)
    return route, target


# ---------------------------------------------------------------------- scene files
@dataclass
class ManeuverScene:
    """One planning problem: the road, the ego, the tracked objects and the target lane.

    The JSON form (what ``nesy plan --maneuver FILE`` reads; road-frame metres, m/s)::

        {"road": {"num_lanes": 3, "lane_width": 3.5, "speed_limit": 13.9, "stop_line_y": null},
         "ego": {"lane": 1, "y": 0, "speed": 12},
         "target": {"lane": 0, "before_y": null},
         "objects": [{"id": "o1", "label": "car", "x": 1.75, "y": 8, "vy": 4}]}

    Example:
        >>> scene = ManeuverScene.from_json({"ego": {"lane": 1, "speed": 10}, "target": {"lane": 0},
        ...                                  "objects": [{"id": "o1", "label": "car", "x": 1.75, "y": 30}]})
        >>> scene.road.num_lanes, scene.ego, scene.objects[0].label
        (3, ManeuverState(lane=1, y=0.0, speed=10.0), 'car')
        >>> ManeuverScene.from_json({"ego": {"lane": 0}, "target": {"lane": 0},
        ...                          "objects": [{"id": "o1", "label": "cat", "x": 1.75, "y": 30}]},
        ...                         labels=("car", "truck"))
        Traceback (most recent call last):
        ...
        ValueError: <scene>: objects[0]: `label` must be one of car, truck. Received label='cat'
    """

    road: RoadLayout
    ego: ManeuverState
    target: ManeuverTarget
    objects: list[TrackedObject]

    @classmethod
    def from_json(cls, data, source: str = "<scene>", *, labels: Sequence[str] | None = None) -> "ManeuverScene":
        """Build and check a scene, naming the bad entry on error.

        Args:
            data: the scene's JSON object.
            source: the name errors start with (the file).
            labels: the object classes a scene may hold (the driving world's are
                ``bridge.vocabulary.CLASS_NAMES``); None accepts any label.
        """
        if not isinstance(data, dict):
            raise ValueError(f"{source}: expected an object with road, ego, target, objects. Received {type(data).__name__}")
        _only(data, ("road", "ego", "target", "objects"), source)
        for key in ("ego", "target"):
            if not isinstance(data.get(key), dict):
                raise ValueError(f"{source}: `{key}` must be an object. Received {key}={data.get(key)!r}")
        road = _build(RoadLayout, data.get("road") or {}, f"{source}: road",
                      {"num_lanes": int, "lane_width": float, "speed_limit": float, "stop_line_y": float,
                       "crosswalk": list})
        if isinstance(road.crosswalk, list):
            road = replace(road, crosswalk=tuple(road.crosswalk))
        ego = _build(ManeuverState, data["ego"], f"{source}: ego", {"lane": int, "y": float, "speed": float})
        target = _build(ManeuverTarget, data["target"], f"{source}: target", {"lane": int, "before_y": float})
        objects = data.get("objects", [])
        if not isinstance(objects, list):
            raise ValueError(f"{source}: `objects` must be a list. Received {type(objects).__name__}")
        fields = {"id": str, "label": str, "x": float, "y": float, "vx": float, "vy": float, "length": float,
                  "width": float, "light": str, "confidence": float}
        tracked = [_build(TrackedObject, entry, f"{source}: objects[{i}]", fields) for i, entry in enumerate(objects)]
        for i, obj in enumerate(tracked):
            if labels is not None and obj.label not in labels:
                raise ValueError(f"{source}: objects[{i}]: `label` must be one of {', '.join(labels)}. "
                                 f"Received label={obj.label!r}")
        for name, lane in (("ego.lane", ego.lane), ("target.lane", target.lane)):
            if not 0 <= lane < road.num_lanes:
                raise ValueError(f"{source}: `{name}` must be a lane index in [0, {road.num_lanes - 1}]. "
                                 f"Received {name}={lane}")
        return cls(road, ego, target, tracked)

    @classmethod
    def load(cls, path, *, labels: Sequence[str] | None = None) -> "ManeuverScene":
        """Read a scene from a JSON file (one-line errors naming the file; ``labels`` as in :meth:`from_json`)."""
        return cls.from_json(read_json(path, "scene"), source=str(path), labels=labels)


def _only(entry: dict, keys, where: str) -> None:
    unknown = sorted(set(entry) - set(keys))
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}; expected some of {', '.join(keys)}")


def _build(kind, entry, where: str, fields: dict):
    """``kind(**entry)`` after checking each field's type; one line naming the bad field."""
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected an object. Received {entry!r}")
    _only(entry, fields, where)
    values = {}
    for key, value in entry.items():
        wanted = fields[key]
        if value is None and key in ("stop_line_y", "before_y", "light", "crosswalk"):
            values[key] = None
            continue
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
              if wanted is float else isinstance(value, wanted) and not isinstance(value, bool))
        if wanted is list:
            ok = isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)
        if not ok:
            words = {int: "an integer", float: "a finite number", str: "a string", list: "a pair [y_min, y_max]"}
            raise ValueError(f"{where}: `{key}` must be {words[wanted]}. Received {key}={value!r}")
        values[key] = float(value) if wanted is float else value
    missing = [f.name for f in dataclasses.fields(kind)
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and f.name not in values]
    if missing:
        raise ValueError(f"{where}: missing key {missing[0]!r}")
    return kind(**values)
