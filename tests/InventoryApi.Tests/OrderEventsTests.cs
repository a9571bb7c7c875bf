using Reference.Tests.Support;
using System.Collections.Concurrent;
using System.Net.Http.Json;
using MassTransit;
using Reference.Contracts;
using Reference.InventoryApi.Apis;

namespace Reference.InventoryApi.Tests;

[Collection(InventoryCollection.Name)]
public sealed class OrderEventsTests(InventoryFixture fixture)
{
    [Fact]
    public async Task Placing_paying_and_cancelling_an_order_publish_their_events_on_the_bus()
    {
        var received = new ConcurrentQueue<object>();
        var listener = Bus.Factory.CreateUsingRabbitMq(bus =>
        {
            bus.Host(new Uri(fixture.Servers.RabbitMqConnectionString));
            bus.ReceiveEndpoint("order-events-test-" + Guid.NewGuid().ToString("N")[..8], endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Durable = false;
                endpoint.Handler<OrderPlaced>(c => Record(c.Message));
                endpoint.Handler<OrderPaid>(c => Record(c.Message));
                endpoint.Handler<OrderCancelled>(c => Record(c.Message));
            });
        });
        await listener.StartAsync();
        try
        {
            var product = await fixture.ReplicaA.CreateProductAsync(stock: 5);
            using var shopper = await Shopper.StartAsync(fixture.ReplicaA);
            var order = (await (await shopper.BuyAsync((product.Id, 2))).Content.ReadFromJsonAsync<OrderResponse>(InventoryApp.Json))!;
            using var admin = fixture.ReplicaB.Admin();
            (await admin.PostAsync($"/api/inventory/orders/{order.Id}/paid", null)).EnsureSuccessStatusCode();
            (await admin.PostAsync($"/api/inventory/orders/{order.Id}/cancel", null)).EnsureSuccessStatusCode();

            await Poll.UntilAsync(() => Task.FromResult(received.Count(Concerns)), count => count >= 3);
            var placed = Assert.Single(received.OfType<OrderPlaced>(), e => e.OrderId == order.Id);
            Assert.Equal(order.Number, placed.Number);
            Assert.Equal(25.00m, placed.Total);
            Assert.Equal((product.Id, 2), (placed.Lines.Single().ProductId, placed.Lines.Single().Quantity));
            Assert.Single(received.OfType<OrderPaid>(), e => e.OrderId == order.Id);
            Assert.Single(received.OfType<OrderCancelled>(), e => e.OrderId == order.Id);

            bool Concerns(object e) => e switch
            {
                OrderPlaced p => p.OrderId == order.Id,
                OrderPaid p => p.OrderId == order.Id,
                OrderCancelled c => c.OrderId == order.Id,
                _ => false,
            };
        }
        finally
        {
            await listener.StopAsync();
        }

        Task Record(object message)
        {
            received.Enqueue(message);
            return Task.CompletedTask;
        }
    }
}
