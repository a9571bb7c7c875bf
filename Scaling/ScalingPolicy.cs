using System.Globalization;

namespace Reference.Scaling;

/// <summary>What the queue looked like at one reading.</summary>
/// <param name="Ready">Jobs waiting for a worker.</param>
/// <param name="Unacked">Jobs delivered to workers and not yet done (prefetch hides backlog here).</param>
/// <param name="OldestWaiting">How long the oldest waiting job has waited; null when none waits or it is unknown.</param>
/// <param name="RecentLatency">Recent upload→Ready latency (p95); null when unknown.</param>
/// <param name="Background">
/// Work no upload waits for (the WebP copies made after Ready, waiting or held): it keeps one worker, or starts one in an
/// empty pool, but never adds more.
/// </param>
public sealed record QueueReading(int Ready, int Unacked, TimeSpan? OldestWaiting = null, TimeSpan? RecentLatency = null, int Background = 0)
{
    public int Jobs => Ready + Unacked;
}

/// <summary>One round's inputs: the queue (null when it could not be read), the workers running now, and the time.</summary>
public sealed record ScalingInputs(QueueReading? Queue, int CurrentWorkers, DateTimeOffset Now);

/// <summary>What the pool should become, and why, in words people read in a log.</summary>
public sealed record ScalingDecision(int From, int To, string Reason, ScalingInputs Inputs)
{
    public bool IsChange => To != From;

    public override string ToString() => $"{From} → {To}: {Reason}";
}

/// <summary>
/// How many image workers should run. Up at once, to as many as the backlog needs (ready plus
/// unacknowledged jobs over <see cref="ScalingLimits.JobsPerWorkerTarget"/>), or one more when the oldest
/// job has waited past its target or latency is over its own; down one worker at a time, each after
/// a smaller pool was wanted for a whole stable window; to <see cref="ScalingLimits.MinWorkers"/> once
/// the queue (and the WebP copies' queue) has been empty for the idle timeout; never outside min..max. An unreadable queue holds
/// the pool. Its only state is when work was last seen and since when a smaller pool is wanted; it
/// starts counting idleness at its first reading, so a restarted scheduler keeps the workers it finds.
/// </summary>
public sealed class ScalingPolicy(ScalingLimits limits)
{
    private DateTimeOffset? _lastWork;
    private DateTimeOffset? _smallerWantedSince;

    public ScalingLimits Limits => limits;

    public ScalingDecision Decide(ScalingInputs inputs)
    {
        var current = inputs.CurrentWorkers;
        var now = inputs.Now;
        _lastWork ??= now;
        if (inputs.Queue is not { } queue)
        {
            _smallerWantedSince = null;
            return new(current, current, $"queue unreadable; holding {current}", inputs);
        }

        if (queue.Jobs > 0 || queue.Background > 0)
        {
            _lastWork = now;
        }

        var idleFor = now - _lastWork.Value;
        var facts = Describe(queue);
        var (wanted, why) = Wanted(queue, current);
        var floor = queue.Jobs == 0 && idleFor >= limits.IdleTimeout
            ? limits.MinWorkers
            : Math.Max(limits.MinWorkers, Math.Min(current, 1)); // a worker that had work stays until the pool is idle
        wanted = Math.Clamp(Math.Max(wanted, floor), limits.MinWorkers, limits.MaxWorkers);

        if (wanted > current)
        {
            _smallerWantedSince = null;
            var capped = wanted == limits.MaxWorkers && why is not null ? $", at the cap of {limits.MaxWorkers}" : "";
            return new(current, wanted, $"{facts}{why ?? $"; minimum {limits.MinWorkers}"}{capped}", inputs);
        }

        if (wanted == current)
        {
            _smallerWantedSince = null;
            return new(current, current, $"{facts}; steady", inputs);
        }

        if (queue.Jobs == 0 && idleFor >= limits.IdleTimeout)
        {
            _smallerWantedSince = null;
            return new(current, wanted, $"{facts}; idle for {Seconds(idleFor)}, timeout {Seconds(limits.IdleTimeout)}", inputs);
        }

        _smallerWantedSince ??= now;
        var waited = now - _smallerWantedSince.Value;
        if (waited < limits.StableWindow)
        {
            return new(current, current, $"{facts}; {wanted} would do, for {Seconds(waited)} of the {Seconds(limits.StableWindow)} window", inputs);
        }

        _smallerWantedSince = now; // the next step down waits a whole window again
        return new(current, current - 1, $"{facts}; {wanted} would do for {Seconds(waited)}, one fewer", inputs);
    }

    private (int Wanted, string? Why) Wanted(QueueReading queue, int current)
    {
        var byBacklog = (int)Math.Ceiling(queue.Jobs / limits.JobsPerWorkerTarget);
        // Never more workers than jobs: a job that waits while its worker is still starting needs no second one.
        if (queue.Ready > 0 && queue.OldestWaiting is { } age && age > limits.OldestWaitingTarget && current + 1 > byBacklog && current < queue.Jobs)
        {
            return (current + 1, $", target {Seconds(limits.OldestWaitingTarget)}");
        }

        if (queue.Jobs > 0 && queue.RecentLatency is { } latency && latency > limits.LatencyTarget && current + 1 > byBacklog && current < queue.Jobs)
        {
            return (current + 1, $", latency {Seconds(latency)} over target {Seconds(limits.LatencyTarget)}");
        }

        if (queue.Jobs > 0 && byBacklog > current)
        {
            return (byBacklog, $", target {limits.JobsPerWorkerTarget.ToString(CultureInfo.InvariantCulture)} per worker");
        }

        if (queue.Jobs == 0 && queue.Background > 0 && current == 0)
        {
            return (1, ", copies to make");
        }

        return (queue.Jobs > 0 ? Math.Max(1, byBacklog) : 0, null);
    }

    private static string Describe(QueueReading queue)
    {
        var text = $"{queue.Ready} waiting, {queue.Unacked} held" + (queue.Background > 0 ? $", {queue.Background} WebP copies" : "");
        return queue.OldestWaiting is { } age && queue.Ready > 0 ? $"{text}, oldest {Seconds(age)}" : text;
    }

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + " s";
}
