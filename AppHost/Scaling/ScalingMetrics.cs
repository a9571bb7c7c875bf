using System.Diagnostics.Metrics;
using Reference.Scaling;

namespace Reference.AppHost.Scaling;

/// <summary>The scaler's decisions as OpenTelemetry metrics (meter <c>Reference.Scaling</c>).</summary>
public sealed class ScalingMetrics : IDisposable
{
    public const string MeterName = "Reference.Scaling";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _changes;
    private ScalingDecision? _last;

    public ScalingMetrics()
    {
        _changes = _meter.CreateCounter<long>("scaling.pool.changes", "{change}", "Pool size changes the scaler decided, by direction.");
        _meter.CreateObservableGauge("scaling.pool.workers", () => _last?.From ?? 0, "{worker}", "Workers running at the last reading.");
        _meter.CreateObservableGauge("scaling.pool.desired", () => _last?.To ?? 0, "{worker}", "Workers the policy wanted at the last reading.");
        _meter.CreateObservableGauge("scaling.queue.jobs", () => _last?.Inputs.Queue?.Jobs ?? 0, "{job}", "Ready plus unacknowledged jobs at the last reading.");
        _meter.CreateObservableGauge("scaling.queue.oldest_waiting", () => _last?.Inputs.Queue?.OldestWaiting?.TotalSeconds ?? 0, "s",
            "Age of the oldest waiting job at the last reading.");
    }

    public void Record(ScalingDecision decision)
    {
        _last = decision;
        if (decision.IsChange)
        {
            _changes.Add(1, new KeyValuePair<string, object?>("direction", decision.To > decision.From ? "up" : "down"));
        }
    }

    public void Dispose() => _meter.Dispose();
}
