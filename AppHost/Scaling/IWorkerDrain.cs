using Reference.Scaling;

namespace Reference.AppHost.Scaling;

/// <summary>
/// The one seam between choosing to stop a worker and stopping it: a worker is stopped only once
/// drained, i.e. it holds no job. Plug a real drain (the worker told to take nothing new and
/// finish what it holds) in here; the scaler calls Aspire's stop after it returns true.
/// </summary>
public interface IWorkerDrain
{
    /// <summary>True once <paramref name="worker"/> holds no job and may be stopped; false to try again next round.</summary>
    Task<bool> DrainAsync(string worker, WorkQueueReading reading, CancellationToken cancellationToken);
}

/// <summary>
/// Drains by waiting: a worker may stop when the broker shows no unacknowledged job on its channels.
/// A job delivered between this reading and the stop is not lost: the stop cancels it after a few
/// seconds (MessagingExtensions), it is redelivered, and the worker's steps are idempotent.
/// </summary>
public sealed class IdleWorkerDrain : IWorkerDrain
{
    public Task<bool> DrainAsync(string worker, WorkQueueReading reading, CancellationToken cancellationToken) =>
        Task.FromResult(reading.HeldBy.GetValueOrDefault(worker) == 0);
}
