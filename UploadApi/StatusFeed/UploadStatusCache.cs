using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Primitives;
using Reference.UploadApi.Apis;

namespace Reference.UploadApi.StatusFeed;

/// <summary>
/// Status polls answered from this replica's memory: a client polling every few milliseconds costs one
/// MySQL read per change of its upload instead of one per poll. <see cref="UploadStatusFeed"/> forgets an
/// upload here the moment any replica changes it; <see cref="Lifetime"/> bounds how stale an answer can
/// be while Redis (and so the feed) is down.
/// </summary>
public sealed class UploadStatusCache
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(2);

    private readonly MemoryCache _answers = new(new MemoryCacheOptions { SizeLimit = 100_000 });

    // One token per upload being cached; cancelled on its change, so a read that began before the change
    // is never stored over it (MemoryCache drops an entry whose token has already fired).
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _changes = new();

    public async Task<UploadResponse?> GetAsync(Guid id, Func<CancellationToken, Task<UploadResponse?>> read, CancellationToken cancellationToken)
    {
        if (_answers.TryGetValue(id, out UploadResponse? answer))
        {
            return answer;
        }

        var changes = _changes.GetOrAdd(id, _ => new CancellationTokenSource());
        var changed = changes.Token;
        answer = await read(cancellationToken);
        if (answer is not null)
        {
            using var entry = _answers.CreateEntry(id);
            entry.Value = answer;
            entry.Size = 1;
            entry.AbsoluteExpirationRelativeToNow = Lifetime;
            entry.AddExpirationToken(new CancellationChangeToken(changed));
            entry.RegisterPostEvictionCallback((_, _, _, _) => _changes.TryRemove(KeyValuePair.Create(id, changes)));
        }

        return answer;
    }

    /// <summary>Called by the feed for every change of <paramref name="id"/>, made here or on another replica.</summary>
    public void Forget(Guid id)
    {
        if (_changes.TryRemove(id, out var changes))
        {
            changes.Cancel();
        }

        _answers.Remove(id);
    }
}
