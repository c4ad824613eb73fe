import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('nest_example_orders')
export class Order {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar' })
  item: string;

  @Column({ type: 'integer' })
  quantity: number;
}
