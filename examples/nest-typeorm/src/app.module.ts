import { Module } from '@nestjs/common';
import { ClientsModule, Transport } from '@nestjs/microservices';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProfilerModule } from '@osprofiler/nestjs';
import { instrumentDataSource } from '@osprofiler/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { Order } from './order.entity';
import { OrdersController, STOCK } from './orders';
import { StockController, StockService } from './stock';

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

function database(): DataSourceOptions {
  const url = process.env.DATABASE_URL;
  if (url !== undefined && url !== '') return { type: 'postgres', url, entities: [Order], synchronize: true };
  return { type: 'better-sqlite3', database: ':memory:', entities: [Order], synchronize: true };
}

@Module({
  imports: [
    // One import: wsgi points for routes, rpc points for NATS messages, @Traced providers.
    ProfilerModule.forRoot({ enabled: true, hmacKeys: ['SECRET_KEY'], service: 'orders', traceDb: true }),
    TypeOrmModule.forRootAsync({
      useFactory: database,
      // The DataSource Nest creates, traced by @osprofiler/typeorm: db + sql points.
      dataSourceFactory: async (options?: DataSourceOptions) => instrumentDataSource(new DataSource(options!)),
    }),
    TypeOrmModule.forFeature([Order]),
    ClientsModule.register([{ name: STOCK, transport: Transport.NATS, options: { servers: [NATS_URL] } }]),
  ],
  controllers: [OrdersController, StockController],
  providers: [StockService],
})
export class AppModule {}
