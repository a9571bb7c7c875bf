using StackExchange.Redis;

namespace Reference.AppHost.Scaling;

/// <summary>
/// The scaler's one connection to Redis, as its administrator (the <c>cache</c> resource's connection string: the
/// AppHost is the orchestrator). Through it the scaler drains workers by the console's command keys and reads their
/// heartbeats (<see cref="WorkerDrains"/>), and leaves its decisions for the console (Scaling's <c>ScalerDecisionLog</c>).
/// </summary>
public sealed class ScalerRedis(Func<CancellationToken, ValueTask<string?>> connectionString) : IAsyncDisposable
{
    public ScalerRedis(IResourceWithConnectionString cache)
        : this(cache.GetConnectionStringAsync)
    {
    }

    private readonly SemaphoreSlim _connecting = new(1, 1);
    private ConnectionMultiplexer? _redis;

    /// <summary>The database; connects on first use, since Redis starts with the run, after the scaler.</summary>
    public async Task<IDatabase> DatabaseAsync(CancellationToken cancellationToken)
    {
        if (_redis is { } connected)
        {
            return connected.GetDatabase();
        }

        await _connecting.WaitAsync(cancellationToken);
        try
        {
            if (_redis is null)
            {
                var options = ConfigurationOptions.Parse(await connectionString(cancellationToken)
                    ?? throw new InvalidOperationException("Redis has no connection string yet."));
                // A scaling round must not hang on Redis: it falls back to the broker's view instead.
                options.AbortOnConnectFail = false;
                options.ConnectTimeout = 2000;
                options.AsyncTimeout = 2000;
                options.ClientName = "apphost-scaler";
                _redis = await ConnectionMultiplexer.ConnectAsync(options);
            }

            return _redis.GetDatabase();
        }
        finally
        {
            _connecting.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        _connecting.Dispose();
    }
}
