using System.Data.Common;
using System.Net;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Reference.InventoryApi.Apis;
using Reference.InventoryApi.Infrastructure;

namespace Reference.InventoryApi.Tests;

/// <summary>
/// A COMMIT that reached MySQL but whose reply was lost looks, to EF's retrying strategy, like a
/// failure: it runs the whole block again. Holding and ordering must notice their own work done.
/// </summary>
[Collection(InventoryCollection.Name)]
public sealed class LostCommitReplyTests(InventoryFixture fixture)
{
    [Fact]
    public async Task A_retried_hold_and_a_retried_order_after_a_lost_commit_reply_take_the_stock_once()
    {
        var lostReply = new LoseNextCommitReply();
        await using var replica = fixture.NewReplica();
        await using var flaky = replica.WithWebHostBuilder(web => web.ConfigureTestServices(services =>
            services.ConfigureDbContext<InventoryDbContext>(options => options.AddInterceptors(lostReply))));
        var product = await fixture.ReplicaA.CreateProductAsync(stock: 10);
        using var shopper = await Shopper.StartAsync(flaky);

        lostReply.Arm();
        var hold = await shopper.HoldAsync((product.Id, 3));
        Assert.True(lostReply.Fired);
        Assert.Equal(HttpStatusCode.OK, hold.StatusCode);
        Assert.Equal(new StockResponse(10, 3, 7), (await fixture.ReplicaA.GetProductAsync(product.Id)).Stock);

        lostReply.Arm();
        var order = await shopper.PlaceOrderAsync();
        Assert.True(lostReply.Fired);
        Assert.Equal(HttpStatusCode.Created, order.StatusCode);
        Assert.Equal(new StockResponse(7, 0, 7), (await fixture.ReplicaA.GetProductAsync(product.Id)).Stock);
        await using var scope = fixture.ReplicaA.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<InventoryDbContext>();
        Assert.Equal(1, await db.Orders.CountAsync(o => o.Lines.Any(l => l.ProductId == product.Id)));
        Assert.Equal(1, await db.Reservations.CountAsync(r => r.Lines.Any(l => l.ProductId == product.Id)));
    }

    /// <summary>Lets the next COMMIT succeed on the server, then throws as if its reply never came.</summary>
    private sealed class LoseNextCommitReply : DbTransactionInterceptor
    {
        private int _armed;

        public bool Fired { get; private set; }

        public void Arm()
        {
            Fired = false;
            Interlocked.Exchange(ref _armed, 1);
        }

        public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _armed, 0) == 1)
            {
                Fired = true;
                // What MySqlConnector's retrying strategy treats as transient, as a read timeout would be.
                throw new TimeoutException("The reply to COMMIT was lost (test).");
            }

            return Task.CompletedTask;
        }
    }
}
