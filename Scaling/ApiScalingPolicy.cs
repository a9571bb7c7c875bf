using System.Globalization;

namespace Reference.Scaling;

/// <summary>An API's load as the gateway measured it: requests in flight now, and the p95 of its recent window (null: no request finished).</summary>
public sealed record ApiLoad(int InFlight, TimeSpan? P95, int Requests);

/// <summary>What an API's replicas should become, and why, in words people read in a log.</summary>
/// <param name="Load">The reading; null when the gateway could not be read.</param>
public sealed record ApiScalingDecision(string Api, int From, int To, string Reason, ApiLoad? Load, DateTimeOffset Now)
{
    public bool IsChange => To != From;

    public override string ToString() => $"{Api} {From} → {To}: {Reason}";
}

/// <summary>
/// How many replicas of one API should run, between 1 (never 0: the storefront is always served) and its replica count.
/// Up at once: one more when the p95 passes <see cref="ApiScalingLimits.LatencyTarget"/>, or as many as the requests in
/// flight need at <see cref="ApiScalingLimits.InFlightPerReplicaTarget"/> each. Down one at a time, each after a whole
/// stable window in which one replica fewer would have been calm (p95 and in flight under half their targets). An
/// unreadable gateway holds the count. Its only state is since when fewer would do.
/// </summary>
public sealed class ApiScalingPolicy(string api, int replicas, ApiScalingLimits limits)
{
    private const double Calm = 0.5;
    private DateTimeOffset? _fewerWouldDoSince;

    public int Replicas => replicas;

    /// <param name="load">The gateway's reading, null when it could not be read.</param>
    /// <param name="running">Replicas running now (those being stopped not counted).</param>
    /// <param name="now">The scaler's clock.</param>
    public ApiScalingDecision Decide(ApiLoad? load, int running, DateTimeOffset now)
    {
        if (load is null)
        {
            _fewerWouldDoSince = null;
            return new(api, running, Math.Max(1, running), running < 1 ? "gateway unreadable; never fewer than 1" : $"gateway unreadable; holding {running}", load, now);
        }

        var facts = Describe(load);
        var byInFlight = (int)Math.Ceiling(load.InFlight / limits.InFlightPerReplicaTarget);
        var slow = load.P95 > limits.LatencyTarget;
        var wanted = Math.Clamp(Math.Max(slow ? running + 1 : 0, byInFlight), 1, replicas);
        if (wanted > running)
        {
            _fewerWouldDoSince = null;
            var why = slow ? $"p95 {Ms(load.P95!.Value)} > {Ms(limits.LatencyTarget)}, {load.InFlight} in flight"
                : running < 1 ? $"{facts}; never fewer than 1"
                : $"{load.InFlight} in flight > {Number(limits.InFlightPerReplicaTarget)} per replica, p95 {P95(load)}";
            return new(api, running, wanted, wanted == replicas && running >= 1 ? $"{why}, at the cap of {replicas}" : why, load, now);
        }

        var fewerWouldBeCalm = running > 1
            && !(load.P95 > limits.LatencyTarget * Calm)
            && load.InFlight <= limits.InFlightPerReplicaTarget * (running - 1) * Calm;
        if (!fewerWouldBeCalm)
        {
            _fewerWouldDoSince = null;
            return new(api, running, running, $"{facts}; steady", load, now);
        }

        _fewerWouldDoSince ??= now;
        var waited = now - _fewerWouldDoSince.Value;
        if (waited < limits.StableWindow)
        {
            return new(api, running, running, $"{facts}; {running - 1} would do, for {Seconds(waited)} of the {Seconds(limits.StableWindow)} window", load, now);
        }

        _fewerWouldDoSince = now; // the next step down waits a whole window again
        return new(api, running, running - 1, $"{facts}; calm for {Seconds(waited)}, one fewer", load, now);
    }

    private static string Describe(ApiLoad load) => $"p95 {P95(load)}, {load.InFlight} in flight";

    private static string P95(ApiLoad load) => load.P95 is { } p95 ? Ms(p95) : "none (no requests)";

    private static string Ms(TimeSpan time) => time.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms";

    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + " s";
}
