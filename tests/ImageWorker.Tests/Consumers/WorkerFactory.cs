using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Reference.Tests.Support;

namespace Reference.ImageWorker.Tests.Consumers;

/// <summary>One ImageWorker replica, in process, on the test's broker, Redis and storage folder (or the bucket <paramref name="settings"/> name).</summary>
public sealed class WorkerFactory(BackingServers servers, string storageRoot, IReadOnlyDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // As the worker's own broker and Redis users, so the tests prove their rights suffice.
        builder.UseSetting("ConnectionStrings:messaging", servers.RabbitMqConnectionStringFor("imageworker"));
        builder.UseSetting("ConnectionStrings:cache", servers.RedisConnectionStringFor("imageworker"));
        builder.UseSetting("Storage:Root", storageRoot);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }

        // Start-up returns once the bus and its queue are up, so a test can publish right after.
        builder.ConfigureServices(services => services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = true;
            o.StartTimeout = TimeSpan.FromSeconds(30);
        }));
    }

    /// <summary>Starts the worker (host, bus, receive endpoint).</summary>
    public WorkerFactory Start()
    {
        _ = Services;
        return this;
    }
}
