namespace Reference.Tests.Support;

/// <summary>Waits for something that happens in the background (a sweep, a consumed message, a reconnect).</summary>
public static class Poll
{
    /// <summary>Reads until <paramref name="done"/>; a <see cref="TimeoutException"/> naming the last value otherwise.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Condition not met within {limit.TotalSeconds:0.#} s; last value: {value}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Checks often until <paramref name="condition"/> holds or <paramref name="limit"/> passes; its last answer.</summary>
    public static async Task<bool> UntilAsync(Func<bool> condition, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition();
    }
}
