"""Reads a TensorBoard run folder with TensorBoard's own EventAccumulator and prints what it found as JSON."""
import json
import sys

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

acc = event_accumulator.EventAccumulator(
    sys.argv[1],
    size_guidance={event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0, event_accumulator.TENSORS: 0},
)
acc.Reload()
tags = acc.Tags()
out = {"scalars": {}, "histograms": {}, "tensors": {}, "hparams": {}}
for tag in tags["scalars"]:
    out["scalars"][tag] = [[e.step, e.value] for e in acc.Scalars(tag)]
for tag in tags["histograms"]:
    out["histograms"][tag] = [
        {"step": e.step, "min": e.histogram_value.min, "max": e.histogram_value.max, "num": e.histogram_value.num,
         "sum": e.histogram_value.sum, "buckets": sum(e.histogram_value.bucket),
         "limits": len(e.histogram_value.bucket_limit)}
        for e in acc.Histograms(tag)]
for tag in tags["tensors"]:
    out["tensors"][tag] = len(acc.Tensors(tag))
for tag, content in acc.PluginTagToContent("hparams").items():
    data = plugin_data_pb2.HParamsPluginData.FromString(content)
    kind = data.WhichOneof("data")
    if kind == "experiment":
        out["hparams"]["experiment"] = {
            "hparams": {i.name: api_pb2.DataType.Name(i.type) for i in data.experiment.hparam_infos},
            "metrics": [m.name.tag for m in data.experiment.metric_infos],
        }
    elif kind == "session_start_info":
        values = {}
        for key, value in data.session_start_info.hparams.items():
            values[key] = getattr(value, value.WhichOneof("kind"))
        out["hparams"]["session_start_info"] = values
    elif kind == "session_end_info":
        out["hparams"]["session_end_info"] = api_pb2.Status.Name(data.session_end_info.status)
print(json.dumps(out))
