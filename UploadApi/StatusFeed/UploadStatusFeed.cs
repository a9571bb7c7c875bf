using System.Collections.Concurrent;
using System.Threading.Channels;
using StackExchange.Redis;

namespace Reference.UploadApi.StatusFeed;

/// <summary>
/// Tells every replica's event streams that an upload changed. The replica that changes a
/// row publishes the upload id on one Redis channel; every replica subscribes to it and wakes
/// the streams it serves for that upload, which then read the row themselves (so messages
/// carry no state that could arrive out of order). Streams also re-read the row on each
/// keep-alive, so a Redis outage delays events but never loses the final one. The same signal
/// keeps <see cref="UploadStatusCache"/>'s answers to polls current.
/// </summary>
public sealed class UploadStatusFeed(IConnectionMultiplexer redis, UploadStatusCache statuses, ILogger<UploadStatusFeed> logger) : IHostedService
{
    private static readonly RedisChannel Channel = RedisChannel.Literal("uploads:status");
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Subscription, byte>> _watchers = new();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await redis.GetSubscriber().SubscribeAsync(Channel, (_, message) =>
            {
                if (Guid.TryParse(message.ToString(), out var id))
                {
                    Wake(id);
                }
            });
        }
        catch (Exception e) when (RedisFailure.Is(e))
        {
            // The multiplexer restores subscriptions when it reconnects.
            logger.LogWarning(e, "Subscribing to upload status changes failed; streams fall back to their keep-alive reads");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Announces a change of <paramref name="id"/> to every replica (this one included).</summary>
    public async Task PublishAsync(Guid id)
    {
        Wake(id);
        try
        {
            // Fire and forget: a stalled Redis must not hold up the transition that announces it.
            await redis.GetSubscriber().PublishAsync(Channel, id.ToString(), CommandFlags.FireAndForget);
        }
        catch (Exception e) when (RedisFailure.Is(e))
        {
            logger.LogWarning(e, "Announcing upload {UploadId} on Redis failed; other replicas see it on their next keep-alive", id);
        }
    }

    /// <summary>Signals on each change of <paramref name="id"/> until disposed. Subscribe before reading the row.</summary>
    public Subscription Watch(Guid id)
    {
        var subscription = new Subscription(this, id);
        _watchers.GetOrAdd(id, _ => new()).TryAdd(subscription, 0);
        return subscription;
    }

    private void Wake(Guid id)
    {
        statuses.Forget(id);
        if (_watchers.TryGetValue(id, out var watchers))
        {
            foreach (var watcher in watchers.Keys)
            {
                watcher.Signal();
            }
        }
    }

    private void Remove(Subscription subscription)
    {
        if (_watchers.TryGetValue(subscription.UploadId, out var watchers))
        {
            watchers.TryRemove(subscription, out _);
            if (watchers.IsEmpty)
            {
                _watchers.TryRemove(new KeyValuePair<Guid, ConcurrentDictionary<Subscription, byte>>(subscription.UploadId, watchers));
            }
        }
    }

    public sealed class Subscription : IDisposable
    {
        // One pending signal is enough: the reader re-reads the row, which covers any number of changes.
        private readonly Channel<bool> _signals = System.Threading.Channels.Channel.CreateBounded<bool>(
            new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        private readonly UploadStatusFeed _feed;

        internal Subscription(UploadStatusFeed feed, Guid uploadId)
        {
            _feed = feed;
            UploadId = uploadId;
        }

        public Guid UploadId { get; }

        /// <summary>True when a change was signalled, false when <paramref name="timeout"/> passed first.</summary>
        public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timer.CancelAfter(timeout);
            try
            {
                return await _signals.Reader.WaitToReadAsync(timer.Token) && _signals.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        internal void Signal() => _signals.Writer.TryWrite(true);

        public void Dispose() => _feed.Remove(this);
    }
}
