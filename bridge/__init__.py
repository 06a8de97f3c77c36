"""Bridge: joins perception and symbolic into one system.

Grounding (detections -> facts), the scene graph, the end-to-end pipeline,
metrics, reports, configs and the ``nesy`` command line.
"""
