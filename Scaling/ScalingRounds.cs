namespace Reference.Scaling;

/// <summary>
/// The wait between two scaling rounds. While no worker runs, an upload would wait for the rest of the round before
/// anything starts: the ready count is then also asked every <see cref="EmptyPoolProbe"/> (a passive declare over AMQP,
/// one loopback round trip), and the next round begins as soon as a job waits. The management API is read only per round.
/// </summary>
public static class ScalingRounds
{
    /// <summary>How often an empty pool looks for a waiting job between rounds.</summary>
    public static readonly TimeSpan EmptyPoolProbe = TimeSpan.FromMilliseconds(200);

    /// <summary>Waits <paramref name="interval"/>, or less when <paramref name="poolEmpty"/> and a job arrives; never throws on cancellation.</summary>
    /// <param name="interval">Between two rounds.</param>
    /// <param name="poolEmpty">No worker runs: look for waiting jobs meanwhile.</param>
    /// <param name="readyNow">The queue's ready jobs now, null when unknown (<see cref="RabbitMqQueueReader.ReadyNowAsync"/>).</param>
    /// <param name="clock">The scaler's clock.</param>
    /// <param name="cancellationToken">The scaler's stop.</param>
    /// <returns>True when a waiting job ended the wait early.</returns>
    public static async Task<bool> WaitAsync(
        TimeSpan interval, bool poolEmpty, Func<CancellationToken, Task<int?>> readyNow, TimeProvider clock, CancellationToken cancellationToken)
    {
        var next = clock.GetUtcNow() + interval;
        while (poolEmpty && !cancellationToken.IsCancellationRequested && next - clock.GetUtcNow() > EmptyPoolProbe)
        {
            await Task.Delay(EmptyPoolProbe, clock, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            try
            {
                if (!cancellationToken.IsCancellationRequested && await readyNow(cancellationToken) > 0)
                {
                    return true;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        var rest = next - clock.GetUtcNow();
        if (rest > TimeSpan.Zero)
        {
            await Task.Delay(rest, clock, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return false;
    }
}
