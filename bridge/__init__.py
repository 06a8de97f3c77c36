"""Bridge: joins perception and symbolic into one system.

In the order a frame flows: frames (:mod:`bridge.frames`), perception stages
(:mod:`bridge.perception_stage`), post-processing (:mod:`bridge.postprocess`,
with :mod:`bridge.calibration` and :mod:`bridge.class_evidence`), the tracker
(:mod:`bridge.tracker`, :mod:`bridge.motion_prior`), grounding
(:mod:`bridge.geometry`, :mod:`bridge.grounding`, :mod:`bridge.scene_graph`,
:mod:`bridge.vocabulary`), the pipeline (:mod:`bridge.pipeline`) and its
planner stages (:mod:`bridge.planning`); the ground truth
(:mod:`bridge.ground_truth`), evaluation and the report
(:mod:`bridge.evaluation`), the experiment file (:mod:`bridge.experiment`,
:mod:`bridge.config`, the shipped ones in :mod:`bridge.shipped`) and the
``nesy`` command line (:mod:`bridge.cli`, :mod:`bridge.commands`).
"""
