using System.Collections.Concurrent;
using MassTransit;
using Reference.Contracts;

namespace Reference.ImageWorker.Tests.Consumers;

/// <summary>
/// A bus of the test's own on the real broker: publishes jobs as UploadApi does and records every
/// event the workers publish, as UploadApi would receive them.
/// </summary>
public sealed class PublishedEvents : IAsyncDisposable
{
    private readonly ConcurrentQueue<object> _events = new();
    private IBusControl? _bus;

    public IBus Bus => _bus ?? throw new InvalidOperationException("Not started.");

    public async Task StartAsync(string rabbitMqConnectionString)
    {
        _bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(new Uri(rabbitMqConnectionString));
            rabbit.ReceiveEndpoint($"imageworker-tests-{Guid.NewGuid():N}", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Durable = false;
                endpoint.Handler<ImageProcessingStarted>(Record);
                endpoint.Handler<ImageProcessed>(Record);
                endpoint.Handler<ImageProcessingFailed>(Record);
                endpoint.Handler<Fault<ImageUploaded>>(Record);
            });
        });
        await _bus.StartAsync();
    }

    public IReadOnlyList<T> Of<T>(Func<T, bool> match) => _events.OfType<T>().Where(match).ToList();

    /// <summary>The <paramref name="count"/>th event of type <typeparamref name="T"/> that matches.</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool> match, int count = 1, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            var found = Of(match);
            if (found.Count >= count)
            {
                return found[count - 1];
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No {typeof(T).Name} #{count} within {seconds} s. Seen: {string.Join(", ", _events)}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_bus is not null)
        {
            await _bus.StopAsync();
        }
    }

    private Task Record<T>(ConsumeContext<T> context) where T : class
    {
        _events.Enqueue(context.Message);
        return Task.CompletedTask;
    }
}
