using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

public static class RedisFailure
{
    /// <summary>
    /// Redis down (<see cref="RedisException"/>) or stalled (a <see cref="TimeoutException"/>, which
    /// <see cref="RedisTimeoutException"/> is; or cancelled and disposed commands when the multiplexer
    /// drops a dead socket). Anything else is a bug and propagates.
    /// </summary>
    public static bool Is(Exception e) =>
        e is RedisException or TimeoutException or ObjectDisposedException or TaskCanceledException;
}
