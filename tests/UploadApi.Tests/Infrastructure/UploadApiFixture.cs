using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Reference.Tests.Support;
using Reference.UploadApi.Apis;
using Reference.UploadApi.Infrastructure;
using Reference.UploadApi.Uploads;

namespace Reference.UploadApi.Tests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class UploadApiCollection : ICollectionFixture<UploadApiFixture>
{
    public const string Name = "UploadApi against real servers";
}

/// <summary>
/// Real MariaDB, Redis and RabbitMQ, and two UploadApi replicas (A and B) on them, sharing
/// one database and one storage folder as replicas behind the gateway do. A's commands can be
/// made to fail on purpose (<see cref="Faults"/>); they do not unless a test asks.
/// </summary>
public sealed class UploadApiFixture : IAsyncLifetime
{
    public const string AdminKey = "test-admin-key-0123456789abcdef0123";
    public const long MaxBytes = 2 * 1024 * 1024;

    public BackingServers Servers { get; } = new();

    public string StorageRoot { get; } = Directory.CreateTempSubdirectory("uploadapi-storage-").FullName;

    public UploadApiFactory A { get; private set; } = null!;

    public UploadApiFactory B { get; private set; } = null!;

    public WorkerQueue Queue { get; private set; } = null!;

    public DatabaseFaults Faults { get; } = new();

    /// <summary>The replicas' settings, for a test that starts one of its own with a change.</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; private set; } = null!;

    public string OriginalsDirectory => Path.Combine(StorageRoot, "originals");

    /// <summary>Files the tests make (not the service's storage).</summary>
    public string WorkDirectory { get; } = Directory.CreateTempSubdirectory("uploadapi-tests-").FullName;

    /// <summary>A real 20000×20000 PNG, made once.</summary>
    public string HugePng => _hugePng.Value;

    private readonly Lazy<string> _hugePng;

    public UploadApiFixture() =>
        _hugePng = new(() => TestImages.WriteSolidPng(Path.Combine(WorkDirectory, "huge.png"), 20_000));

    public async Task InitializeAsync()
    {
        await Servers.InitializeAsync();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:uploaddb"] = Servers.MySqlConnectionString("uploaddb"),
            // The service's own Redis and broker users, so the tests prove their rights suffice.
            ["ConnectionStrings:cache"] = Servers.RedisConnectionStringFor("uploadapi"),
            ["ConnectionStrings:messaging"] = Servers.RabbitMqConnectionStringFor("uploadapi"),
            ["MySql:ServerVersion"] = Servers.MySqlServerVersion,
            // In memory there is no one-shot set-up step (--migrate) to wait for: the replicas migrate at start.
            ["MySql:MigrateAtStart"] = "true",
            ["Auth:AdminKey"] = AdminKey,
            ["Storage:Root"] = StorageRoot,
            ["Uploads:MaxBytes"] = MaxBytes.ToString(),
            ["Uploads:PublishTimeout"] = "00:00:01",
            // Long, so that a change reaching another replica's stream can only have come through Redis.
            ["Uploads:EventsKeepAlive"] = "00:05:00",
            ["Uploads:Sweeper:Interval"] = "00:00:00.200",
            // Long, so uploads made by tests are not re-published while the tests look at them.
            ["Uploads:Sweeper:PendingTimeout"] = "00:01:00",
            ["Uploads:Sweeper:ProcessingTimeout"] = "00:01:00",
            ["Uploads:Sweeper:MaxAttempts"] = "5",
        };
        Settings = settings;
        A = new UploadApiFactory(settings, Faults);
        B = new UploadApiFactory(settings);

        // Both replicas start (and migrate) at once, as they do when the AppHost starts them.
        await Task.WhenAll(Task.Run(() => A.CreateClient()), Task.Run(() => B.CreateClient()));
        Queue = new WorkerQueue(Servers.RabbitMqConnectionString);
    }

    public async Task DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        await Servers.DisposeAsync();
        Directory.Delete(StorageRoot, recursive: true);
        Directory.Delete(WorkDirectory, recursive: true);
    }

    public HttpClient AdminClient(UploadApiFactory? replica = null)
    {
        var client = (replica ?? A).CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return client;
    }

    /// <summary>Uploads the good test JPEG as the admin, on replica A; its id once accepted (202).</summary>
    public async Task<Guid> UploadGoodJpegAsync()
    {
        using var admin = AdminClient();
        var response = await admin.PostAsync("/api/uploads", FormFromFile(TestImages.GoodJpeg));
        await response.AssertStatusAsync(System.Net.HttpStatusCode.Accepted);
        return (await response.Content.ReadFromJsonAsync<UploadAccepted>())!.Id;
    }

    public async Task<T> WithDbAsync<T>(Func<UploadDbContext, Task<T>> work, UploadApiFactory? replica = null)
    {
        await using var scope = (replica ?? A).Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<UploadDbContext>());
    }

    public async Task<T> WithTransitionsAsync<T>(UploadApiFactory replica, Func<UploadTransitions, Task<T>> work)
    {
        await using var scope = replica.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<UploadTransitions>());
    }

    public static MultipartFormDataContent Form(byte[]? file, string fileName = "photo.jpg", string contentType = "image/jpeg", string? productId = null)
    {
        var form = new MultipartFormDataContent();
        if (productId is not null)
        {
            form.Add(new StringContent(productId), "productId");
        }

        if (file is not null)
        {
            var part = new ByteArrayContent(file);
            part.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            form.Add(part, "file", fileName);
        }

        return form;
    }

    public static MultipartFormDataContent FormFromFile(string path, string? productId = null)
    {
        var form = new MultipartFormDataContent();
        if (productId is not null)
        {
            form.Add(new StringContent(productId), "productId");
        }

        var part = new StreamContent(File.OpenRead(path));
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(part, "file", Path.GetFileName(path));
        return form;
    }
}

public sealed class UploadApiFactory(IReadOnlyDictionary<string, string?> settings, DatabaseFaults? faults = null)
    : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        if (faults is not null)
        {
            builder.ConfigureServices(services => services.ConfigureDbContext<UploadDbContext>(db => db.AddInterceptors(faults)));
        }
    }
}
