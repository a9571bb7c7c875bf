using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Reference.Scaling;

namespace Reference.AppHost.Scaling;

/// <summary>The API scaler's decisions as OpenTelemetry metrics on the <c>Reference.Scaling</c> meter, tagged with the API.</summary>
public sealed class ApiScalingMetrics : IDisposable
{
    private readonly Meter _meter = new(ScalingMetrics.MeterName);
    private readonly Counter<long> _changes;
    private readonly ConcurrentDictionary<string, ApiScalingDecision> _last = new();

    public ApiScalingMetrics()
    {
        _changes = _meter.CreateCounter<long>("scaling.api.changes", "{change}", "API replica count changes the scaler decided, by API and direction.");
        _meter.CreateObservableGauge("scaling.api.replicas", () => Each(d => d.From), "{replica}", "Replicas running at the last reading.");
        _meter.CreateObservableGauge("scaling.api.desired", () => Each(d => d.To), "{replica}", "Replicas the policy wanted at the last reading.");
        _meter.CreateObservableGauge("scaling.api.in_flight", () => Each(d => d.Load?.InFlight ?? 0), "{request}", "Requests in flight at the gateway.");
        _meter.CreateObservableGauge("scaling.api.latency_p95", () => Each(d => d.Load?.P95?.TotalSeconds ?? 0), "s", "p95 over the gateway's recent window.");
    }

    public void Record(ApiScalingDecision decision)
    {
        _last[decision.Api] = decision;
        if (decision.IsChange)
        {
            _changes.Add(1, new("api", decision.Api), new("direction", decision.To > decision.From ? "up" : "down"));
        }
    }

    private IEnumerable<Measurement<T>> Each<T>(Func<ApiScalingDecision, T> value) where T : struct =>
        _last.Values.Select(d => new Measurement<T>(value(d), new KeyValuePair<string, object?>("api", d.Api)));

    public void Dispose() => _meter.Dispose();
}
