using System.Net.Http.Json;

namespace Reference.InventoryApi.Tests;

[Collection(InventoryCollection.Name)]
public sealed class StartupTests(InventoryFixture fixture)
{
    [Fact]
    public async Task With_seeding_switched_off_an_empty_database_stays_empty()
    {
        await using var replica = fixture.NewReplica(
            "inventory_unseeded_" + Guid.NewGuid().ToString("N")[..8],
            new Dictionary<string, string?> { ["Inventory:SeedDemoCatalog"] = "false" });
        using var client = replica.Anonymous();

        var categories = await client.GetFromJsonAsync<string[]>("/api/inventory/categories");

        Assert.Empty(categories!);
    }
}
