using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Reference.InventoryApi.Apis;
using Reference.Tests.Support;

namespace Reference.InventoryApi.Tests;

[CollectionDefinition(Name)]
public sealed class InventoryCollection : ICollectionFixture<InventoryFixture>
{
    // One collection: the fault tests stop servers every other test uses, so nothing runs beside them.
    public const string Name = "Inventory";
}

/// <summary>Real MariaDB, Redis and RabbitMQ, and two replicas of the service on one database.</summary>
public sealed class InventoryFixture : IAsyncLifetime
{
    public const string Database = "inventory_tests";

    public BackingServers Servers { get; } = new();
    public InventoryApp ReplicaA { get; private set; } = null!;
    public InventoryApp ReplicaB { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Servers.InitializeAsync();
        ReplicaA = NewReplica();
        ReplicaB = NewReplica();
        // Both at once, as replicas start: the migration lock has to sort them out.
        await Task.WhenAll(Task.Run(ReplicaA.Start), Task.Run(ReplicaB.Start));
        // Healthy includes the bus: its queue is bound before any test publishes to it.
        await Task.WhenAll(ReplicaA.WaitUntilHealthyAsync(), ReplicaB.WaitUntilHealthyAsync());
    }

    public InventoryApp NewReplica(string database = Database, IReadOnlyDictionary<string, string?>? settings = null) =>
        new(Servers, Servers.MySqlConnectionString(database), settings);

    public async Task DisposeAsync()
    {
        await ReplicaA.DisposeAsync();
        await ReplicaB.DisposeAsync();
        await Servers.DisposeAsync();
    }
}

/// <summary>One replica of InventoryApi in memory, configured as the AppHost would.</summary>
public sealed class InventoryApp(
    BackingServers servers,
    string mySqlConnectionString,
    IReadOnlyDictionary<string, string?>? settings) : WebApplicationFactory<Program>
{
    public const string AdminKey = "test-admin-key-0123456789abcdef0123";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:inventorydb", mySqlConnectionString);
        // The service's own Redis and broker users, so the tests prove their rights suffice.
        builder.UseSetting("ConnectionStrings:cache", servers.RedisConnectionStringFor("inventoryapi"));
        builder.UseSetting("ConnectionStrings:messaging", servers.RabbitMqConnectionStringFor("inventoryapi"));
        builder.UseSetting("MySql:ServerVersion", servers.MySqlServerVersion);
        builder.UseSetting("Auth:AdminKey", AdminKey);
        builder.UseSetting("Inventory:SeedDemoCatalog", "true");
        // In memory there is no one-shot set-up step (--migrate) to wait for: the replicas migrate at start.
        builder.UseSetting("MySql:MigrateAtStart", "true");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
    }

    public void Start() => _ = Server;

    public HttpClient Anonymous() => CreateClient();

    public async Task WaitUntilHealthyAsync()
    {
        using var client = CreateClient();
        await Poll.UntilAsync(
            async () => await (await client.GetAsync("/health")).Content.ReadAsStringAsync(),
            body => body == "Healthy");
    }

    public HttpClient Admin()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return client;
    }

    /// <summary>A product of its own for one test: a fresh SKU and, unless given, a fresh category.</summary>
    public async Task<ProductResponse> CreateProductAsync(int stock, string? category = null, string? name = null)
    {
        // The part after the dash starts with a letter: a search's short word ("3") finds a SKU word it starts ("35DD…").
        var sku = "T-X" + Guid.NewGuid().ToString("N")[..11].ToUpperInvariant();
        using var admin = Admin();
        var response = await admin.PostAsJsonAsync("/api/inventory/products", new
        {
            sku,
            name = name ?? "Test product " + sku,
            description = "Made by a test.",
            category = category ?? "Test-" + Guid.NewGuid().ToString("N")[..8],
            price = 12.50m,
            currency = "EUR",
            stock,
        });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<ProductResponse>(Json))!;
    }

    public async Task<ProductResponse> GetProductAsync(Guid id)
    {
        using var client = Anonymous();
        var response = await client.GetAsync($"/api/inventory/products/{id}");
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<ProductResponse>(Json))!;
    }
}
